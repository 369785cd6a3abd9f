/*
 * The MQTT 5 client (see mqtt.h), the application's side; the I/O thread is mqtt_io.c,
 * the state both share mqtt_client.h. One I/O thread per client owns the connection. It
 * reads what the broker sent in large chunks, hands each PUBLISH to the message callback,
 * and sends the acknowledgements of a whole chunk, and every publish queued meanwhile by
 * other threads, in one write. Publishers encode their packet whole and queue it under
 * the mutex; the I/O thread numbers it, keeps it until its PUBACK and sends it again after
 * a reconnect.
 *
 * Why not a library: Paho C 1.3 acknowledged a message whatever the callback returned,
 * walked its list of unacknowledged publishes on every publish and spent most of the
 * ingest's CPU in its own threads (bench/README.md has the figures).
 */
#include "common/mqtt.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/mqtt_client.h"
#include "common/xmalloc.h"

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Gets the I/O thread out of poll; one write until it has looked at the queue again. */
static void wake(struct mqtt *m)
{
	uint64_t one = 1;

	if (atomic_exchange(&m->wake_sent, 1) == 0 && write(m->wake_fd, &one, sizeof(one)) < 0)
		atomic_store(&m->wake_sent, 0);
}
/* ---- shared with the I/O thread (mqtt_client.h) ---- */


void mqtt_set_error(struct mqtt *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->last_error, sizeof(m->last_error), fmt, ap);
	va_end(ap);
}

void mqtt_list_push(struct msg_list *l, struct outmsg *o)
{
	o->next = NULL;
	o->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = o;
	else
		l->head = o;
	l->tail = o;
}

void mqtt_list_remove(struct msg_list *l, struct outmsg *o)
{
	if (o->prev != NULL)
		o->prev->next = o->next;
	else
		l->head = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	else
		l->tail = o->prev;
}

void mqtt_list_free(struct msg_list *l)
{
	struct outmsg *o = l->head, *next;

	for (; o != NULL; o = next) {
		next = o->next;
		free(o);
	}
	*l = (struct msg_list){0};
}

char **mqtt_strings_copy(char *const *list, size_t n)
{
	char **c = xcalloc(n ? n : 1, sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(list[i]);
	return c;
}

void mqtt_strings_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}




/* ---- the application's side ---- */

void mqtt_subscribe_set(struct mqtt *m, const char *const *filters, size_t n)
{
	pthread_mutex_lock(&m->mu);
	mqtt_strings_free(m->filters, m->n_filters);
	m->filters = mqtt_strings_copy((char *const *)(uintptr_t)filters, n);
	m->n_filters = n;
	m->subs_dirty = 1;
	m->ready = 0;
	pthread_mutex_unlock(&m->mu);
	wake(m);
}

void mqtt_start(struct mqtt *m)
{
	pthread_mutex_lock(&m->mu);
	m->running = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
}

/* Waits on cond until deadline (ms, monotonic; <0 for ever); caller holds mu. 0 on
 * timeout. */
static int wait_until(struct mqtt *m, int64_t deadline)
{
	struct timespec ts;
	int64_t left;

	if (deadline < 0) {
		pthread_cond_wait(&m->cond, &m->mu);
		return 1;
	}
	left = deadline - clock_mono_ms();
	if (left <= 0)
		return 0;
	clock_deadline_mono(&ts, left);
	return pthread_cond_timedwait(&m->cond, &m->mu, &ts) != ETIMEDOUT || clock_mono_ms() < deadline;
}

void mqtt_pause(struct mqtt *m, int send_will)
{
	int64_t deadline = clock_mono_ms() + DISCONNECT_TIMEOUT_MS + 1000;

	pthread_mutex_lock(&m->mu);
	m->running = 0;
	m->pause_will = send_will;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
	wake(m);
	pthread_mutex_lock(&m->mu);
	while (m->connected && wait_until(m, deadline))
		;
	pthread_mutex_unlock(&m->mu);
}

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
		 int retain, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	long size = mqtt_wire_publish_size(strlen(topic), len, qos);
	int own_thread = pthread_equal(pthread_self(), m->thread);
	struct outmsg *o;

	if (size < 0) {
		snprintf(err, errlen, "publish to %.100s: %zu bytes are more than MQTT carries", topic, len);
		return -1;
	}
	o = xmalloc(sizeof(*o) + (size_t)size);
	o->qos = (uint8_t)(qos > 0 ? 1 : 0);
	o->len = mqtt_wire_publish(o->bytes, topic, strlen(topic), len ? payload : "", len, o->qos,
				   retain, &o->id_off);
	pthread_mutex_lock(&m->mu);
	/* From the message callback (the I/O thread) nothing may wait: only that thread
	 * reads the acknowledgements that would end the wait. */
	while (!own_thread && m->connected && m->pending >= m->max_pending)
		if (!wait_until(m, deadline))
			break;
	if (m->pending >= m->max_pending && !own_thread) {
		snprintf(err, errlen, "%zu publishes are waiting for the broker", m->pending);
		pthread_mutex_unlock(&m->mu);
		free(o);
		return -1;
	}
	mqtt_list_push(&m->queued, o);
	m->pending++;
	pthread_mutex_unlock(&m->mu);
	if (!own_thread)
		wake(m);
	return 0;
}

int mqtt_flush(struct mqtt *m, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int done;

	pthread_mutex_lock(&m->mu);
	while (m->pending > 0 && wait_until(m, deadline))
		;
	done = m->pending == 0;
	pthread_mutex_unlock(&m->mu);
	return done ? 0 : -1;
}

#define GETTER(name, field)                                                                 \
	int name(struct mqtt *m)                                                            \
	{                                                                                   \
		int v;                                                                      \
		pthread_mutex_lock(&m->mu);                                                 \
		v = m->field;                                                               \
		pthread_mutex_unlock(&m->mu);                                               \
		return v;                                                                   \
	}
GETTER(mqtt_ready, ready)
GETTER(mqtt_connected, connected)

void mqtt_last_error(struct mqtt *m, char *buf, size_t len)
{
	pthread_mutex_lock(&m->mu);
	snprintf(buf, len, "%s", m->last_error);
	pthread_mutex_unlock(&m->mu);
}

/* ---- life cycle ---- */

static void set_options(struct mqtt *m, const struct mqtt_options *o)
{
	m->uri = xstrdup(o->uri);
	m->ca = dup_or_null(o->ca_file);
	m->cert = dup_or_null(o->cert_file);
	m->key = dup_or_null(o->key_file);
	m->client_id = xstrdup(o->client_id != NULL ? o->client_id : "");
	m->username = dup_or_null(o->username);
	m->password = dup_or_null(o->password);
	m->will_topic = dup_or_null(o->will_topic);
	m->will_payload = dup_or_null(o->will_payload);
	m->conn = (struct mqtt_conn_options){m->uri, m->ca, m->cert, m->key};
	m->cp = (struct mqtt_connect_params){
		.client_id = m->client_id, .username = m->username, .password = m->password,
		.keepalive_s = (uint16_t)(o->keepalive_s > 0 ? o->keepalive_s : 30),
		.clean_start = o->session_expiry_s == 0, .session_expiry_s = o->session_expiry_s,
		/* How many unacknowledged messages the broker may send us: the read chunks
		 * carry hundreds, acknowledged together. */
		.receive_max = 65535,
		.will_topic = m->will_topic, .will_payload = m->will_payload,
		.will_len = m->will_payload ? strlen(m->will_payload) : 0, .will_qos = 1,
		.will_retain = o->will_retain};
}

struct mqtt *mqtt_create(const struct mqtt_options *o, mqtt_message_fn on_message, void *ctx,
			 char *err, size_t errlen)
{
	struct mqtt *m;
	pthread_condattr_t ca;
	sigset_t all, old;

	if (mqtt_conn_check(&(struct mqtt_conn_options){o->uri, o->ca_file, o->cert_file, o->key_file},
			    err, errlen) != 0)
		return NULL;
	if (o->client_id != NULL && strlen(o->client_id) > 65535) {
		snprintf(err, errlen, "client id too long");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->on_message = on_message;
	m->ctx = ctx;
	m->max_pending = o->max_pending > 0 ? (size_t)o->max_pending : 10000;
	m->receive_max = 65535;
	m->inflight = xcalloc(65536, sizeof(*m->inflight));
	m->id_used = xcalloc(65536, 1);
	set_options(m, o);
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		fatal("eventfd");
	/* Signals are the main thread's (style.md §14): the I/O thread takes none. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&m->thread, NULL, mqtt_io_main, m) != 0)
		fatal("pthread_create");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return m;
}

void mqtt_free(struct mqtt *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->quit = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
	wake(m);
	pthread_join(m->thread, NULL);
	close(m->wake_fd);
	mqtt_list_free(&m->queued);
	mqtt_io_free_state(m);
	mqtt_strings_free(m->filters, m->n_filters);
	free(m->uri);
	free(m->ca);
	free(m->cert);
	free(m->key);
	free(m->client_id);
	free(m->username);
	free(m->password);
	free(m->will_topic);
	free(m->will_payload);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cond);
	free(m);
}
