/*
 * The MQTT client's I/O thread (see mqtt.c for the design): connects, reads and handles
 * what the broker sends, sends acknowledgements, queued publishes and subscriptions,
 * keeps the connection alive, and reconnects with backoff.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/mqtt_client.h"
#include "common/xmalloc.h"

#define BACKOFF_FIRST_MS 100     /* the first retry after a lost connection */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define CONNECT_TIMEOUT_MS 10000
#define READ_CHUNK 65536
#define READS_PER_TURN 8         /* then acks and publishes go out before reading on */
#define MAX_FRAME 268435460u     /* the largest packet MQTT can express */

static int has_string(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}
/* A free packet id (1..65535) for a publish or a subscription request. */
static uint16_t take_id(struct mqtt *m)
{
	do
		m->next_id = (uint16_t)(m->next_id + 1);
	while (m->next_id == 0 || m->id_used[m->next_id]);
	m->id_used[m->next_id] = 1;
	return m->next_id;
}
/* ---- output ---- */

/* Writes what the socket takes now. -1 with err when the connection broke. */
static int write_some(struct mqtt *m, char *err, size_t errlen)
{
	while (m->out_off < m->out.len) {
		ssize_t n = mqtt_conn_write(m->c, m->out.data + m->out_off, m->out.len - m->out_off,
					    err, errlen);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		m->out_off += (size_t)n;
		m->last_write_ms = clock_mono_ms();
	}
	if (m->out_off == m->out.len)
		m->out.len = m->out_off = 0;
	return 0;
}

static void put_message(struct mqtt *m, struct outmsg *o)
{
	mqtt_wbuf_reserve(&m->out, o->len);
	memcpy(m->out.data + m->out.len, o->bytes, o->len);
	m->out.len += o->len;
}

/* Moves queued publishes into the output while the broker's Receive Maximum allows. */
static void send_queued(struct mqtt *m)
{
	struct msg_list take = {0};
	struct outmsg *o, *next;
	size_t room = m->receive_max > m->n_inflight ? m->receive_max - m->n_inflight : 0, done = 0;

	pthread_mutex_lock(&m->mu);
	while (room > 0 && (o = m->queued.head) != NULL) {
		mqtt_list_remove(&m->queued, o);
		mqtt_list_push(&take, o);
		room -= o->qos > 0;
		done += o->qos == 0;
	}
	m->pending -= done;
	if (done > 0)
		pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
	for (o = take.head; o != NULL; o = next) {
		next = o->next;
		if (o->qos == 0) {
			put_message(m, o);
			free(o);
			continue;
		}
		o->id = take_id(m);
		mqtt_wire_publish_set_id(o->bytes, o->id_off, o->id);
		put_message(m, o);
		m->inflight[o->id] = o;
		mqtt_list_push(&m->sent, o);
		m->n_inflight++;
	}
}

/* After a reconnect: what was in flight goes again, marked as a duplicate. */
static void resend_inflight(struct mqtt *m)
{
	for (struct outmsg *o = m->sent.head; o != NULL; o = o->next) {
		mqtt_wire_publish_set_dup(o->bytes);
		put_message(m, o);
	}
}

/* ---- subscriptions ---- */

static void request(struct mqtt *m, const char *filter, int unsub)
{
	uint16_t id = take_id(m);

	if ((unsub ? mqtt_wire_unsubscribe(&m->out, id, filter)
		   : mqtt_wire_subscribe(&m->out, id, filter, 1)) != 0) {
		m->id_used[id] = 0;
		pthread_mutex_lock(&m->mu);
		mqtt_set_error(m, "topic filter too long: %.60s...", filter);
		pthread_mutex_unlock(&m->mu);
		return;
	}
	m->subreqs = xrealloc(m->subreqs, (m->n_subreqs + 1) * sizeof(*m->subreqs));
	m->subreqs[m->n_subreqs++] = (struct subreq){id, unsub, xstrdup(filter)};
}

static void set_ready_if_done(struct mqtt *m)
{
	size_t subs = 0;

	for (size_t i = 0; i < m->n_subreqs; i++)
		subs += !m->subreqs[i].unsub;
	if (subs > 0 || m->sub_failed)
		return;
	pthread_mutex_lock(&m->mu);
	if (!m->ready && !m->subs_dirty) {
		m->ready = 1;
		if (m->n_subscribed > 0)
			log_info("event=subscribed filters=%zu", m->n_subscribed);
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
}

/* Brings this connection's subscriptions to the wanted set. */
static void reconcile(struct mqtt *m)
{
	char **want;
	size_t n;

	pthread_mutex_lock(&m->mu);
	want = mqtt_strings_copy(m->filters, m->n_filters);
	n = m->n_filters;
	m->subs_dirty = 0;
	pthread_mutex_unlock(&m->mu);
	for (size_t i = 0; i < m->n_subscribed; i++)
		if (!has_string(want, n, m->subscribed[i]))
			request(m, m->subscribed[i], 1);
	for (size_t i = 0; i < n; i++)
		if (!has_string(m->subscribed, m->n_subscribed, want[i]))
			request(m, want[i], 0);
	mqtt_strings_free(m->subscribed, m->n_subscribed);
	m->subscribed = want;
	m->n_subscribed = n;
	m->sub_failed = 0;
	set_ready_if_done(m);
}

static void on_suback(struct mqtt *m, const struct mqtt_frame *f, char *err, size_t errlen)
{
	const unsigned char *codes;
	size_t n, i;
	uint16_t id;

	if (mqtt_wire_parse_suback(f, &id, &codes, &n) != 0) {
		snprintf(err, errlen, "a malformed SUBACK from the broker");
		return;
	}
	for (i = 0; i < m->n_subreqs && m->subreqs[i].id != id; i++)
		;
	if (i == m->n_subreqs)
		return;
	m->id_used[id] = 0;
	if (!m->subreqs[i].unsub && (n == 0 || codes[0] >= MQTT_RC_UNSPECIFIED)) {
		pthread_mutex_lock(&m->mu);
		mqtt_set_error(m, "subscription to %s refused: %s", m->subreqs[i].filter,
			  mqtt_reason_string(n ? codes[0] : MQTT_RC_UNSPECIFIED));
		log_warnx("event=subscribe_refused %s", m->last_error);
		pthread_mutex_unlock(&m->mu);
		m->sub_failed = 1;
	}
	free(m->subreqs[i].filter);
	m->subreqs[i] = m->subreqs[--m->n_subreqs];
	set_ready_if_done(m);
}

static void drop_subreqs(struct mqtt *m)
{
	for (size_t i = 0; i < m->n_subreqs; i++) {
		m->id_used[m->subreqs[i].id] = 0;
		free(m->subreqs[i].filter);
	}
	m->n_subreqs = 0;
	mqtt_strings_free(m->subscribed, m->n_subscribed);
	m->subscribed = NULL;
	m->n_subscribed = 0;
}

/* ---- input ---- */

static void on_publish(struct mqtt *m, const struct mqtt_frame *f, char *err, size_t errlen)
{
	struct mqtt_publish_in p;

	if (mqtt_wire_parse_publish(f, &p) != 0 || p.has_topic_alias) {
		snprintf(err, errlen, "a malformed PUBLISH from the broker");
		return;
	}
	if (m->on_message != NULL &&
	    m->on_message(m->ctx, p.topic, p.topic_len, p.payload, p.payload_len) != 0) {
		/* Not acknowledged: the broker redelivers it when the service is back. */
		log_warnx("event=fatal reason=\"a received message could not be made durable; "
			  "exiting without acknowledging it\"");
		_exit(EXIT_FAILURE);
	}
	if (p.qos == 1)
		mqtt_wire_ack(&m->out, MQTT_PUBACK, p.id);
	else if (p.qos == 2)
		mqtt_wire_ack(&m->out, MQTT_PUBREC, p.id);
}

/* A PUBACK: the message is done. Returns 1 when one was freed. */
static int on_puback(struct mqtt *m, const struct mqtt_frame *f, char *err, size_t errlen)
{
	struct outmsg *o;
	uint16_t id;
	uint8_t reason;

	if (mqtt_wire_parse_ack(f, &id, &reason) != 0) {
		snprintf(err, errlen, "a malformed PUBACK from the broker");
		return 0;
	}
	if ((o = m->inflight[id]) == NULL)
		return 0;
	if (reason >= MQTT_RC_UNSPECIFIED) {
		struct mqtt_frame pf;
		struct mqtt_publish_in p;
		if (mqtt_wire_frame(o->bytes, o->len, o->len, &pf) == 1 &&
		    mqtt_wire_parse_publish(&pf, &p) == 0)
			log_warnx("event=publish_refused topic=\"%.*s\" reason=\"%s\"",
				  (int)p.topic_len, p.topic, mqtt_reason_string(reason));
	}
	m->inflight[id] = NULL;
	m->id_used[id] = 0;
	mqtt_list_remove(&m->sent, o);
	m->n_inflight--;
	free(o);
	return 1;
}

static void on_connack(struct mqtt *m, const struct mqtt_frame *f, char *err, size_t errlen)
{
	struct mqtt_connack a;

	if (mqtt_wire_parse_connack(f, &a) != 0) {
		snprintf(err, errlen, "connect failed: a malformed CONNACK");
		return;
	}
	if (a.reason != MQTT_RC_SUCCESS) {
		snprintf(err, errlen, "connect failed: %s", mqtt_reason_string(a.reason));
		return;
	}
	m->got_connack = 1;
	/* Below 65535, so a packet id is always free for a subscription request. */
	m->receive_max = a.receive_max < 65000 ? a.receive_max : 65000;
	if (a.server_keepalive >= 0)
		m->keepalive_ms = a.server_keepalive * 1000;
	pthread_mutex_lock(&m->mu);
	m->connected = 1;
	m->ready = 0;
	m->last_error[0] = '\0';
	m->subs_dirty = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
	log_info("event=mqtt_connected session_present=%d receive_max=%zu", a.session_present,
		 m->receive_max);
	resend_inflight(m);
}

/* Handles one packet; err set when the connection must end. Returns PUBACKs freed. */
static int handle(struct mqtt *m, const struct mqtt_frame *f, char *err, size_t errlen)
{
	uint16_t id;
	uint8_t reason;

	if (!m->got_connack && f->type != MQTT_CONNACK) {
		snprintf(err, errlen, "connect failed: the broker sent packet type %d before CONNACK",
			 f->type);
		return 0;
	}
	switch (f->type) {
	case MQTT_CONNACK:
		on_connack(m, f, err, errlen);
		return 0;
	case MQTT_PUBLISH:
		on_publish(m, f, err, errlen);
		return 0;
	case MQTT_PUBACK:
		return on_puback(m, f, err, errlen);
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		on_suback(m, f, err, errlen);
		return 0;
	case MQTT_PUBREL:
		if (mqtt_wire_parse_ack(f, &id, &reason) == 0)
			mqtt_wire_ack(&m->out, MQTT_PUBCOMP, id);
		return 0;
	case MQTT_PINGRESP:
		m->ping_sent_ms = 0;
		return 0;
	case MQTT_DISCONNECT:
		reason = 0;
		mqtt_wire_parse_disconnect(f, &reason);
		snprintf(err, errlen, "the broker disconnected: %s", mqtt_reason_string(reason));
		return 0;
	default:
		snprintf(err, errlen, "unexpected packet type %d from the broker", f->type);
		return 0;
	}
}

/* Handles every whole packet in rx and keeps the rest for the next read. */
static void parse_rx(struct mqtt *m, char *err, size_t errlen)
{
	struct mqtt_frame f;
	size_t at = 0, acked = 0;
	int rc = 0;

	while (err[0] == '\0' && (rc = mqtt_wire_frame(m->rx + at, m->rx_len - at, MAX_FRAME, &f)) == 1) {
		acked += (size_t)handle(m, &f, err, errlen);
		at += f.total;
	}
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "a malformed packet length from the broker");
	memmove(m->rx, m->rx + at, m->rx_len - at);
	m->rx_len -= at;
	if (acked > 0) {
		pthread_mutex_lock(&m->mu);
		m->pending -= acked;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->mu);
	}
}

/* Room for the next read, or for the whole of a large packet whose header is in. */
static void rx_reserve(struct mqtt *m)
{
	struct mqtt_frame f;
	size_t want = m->rx_len + READ_CHUNK;

	if (mqtt_wire_frame(m->rx, m->rx_len, MAX_FRAME, &f) == 0 && f.total > want)
		want = f.total;
	if (want > m->rx_cap) {
		m->rx = xrealloc(m->rx, want);
		m->rx_cap = want;
	} else if (m->rx_cap > 4 * READ_CHUNK && want <= 2 * READ_CHUNK) {
		m->rx = xrealloc(m->rx, 2 * READ_CHUNK);  /* back down after a large packet */
		m->rx_cap = 2 * READ_CHUNK;
	}
}

/* Reads and handles what is there, a bounded amount per turn. */
static void read_some(struct mqtt *m, char *err, size_t errlen)
{
	for (int i = 0; i < READS_PER_TURN && err[0] == '\0'; i++) {
		ssize_t n;
		rx_reserve(m);
		n = mqtt_conn_read(m->c, m->rx + m->rx_len, m->rx_cap - m->rx_len, err, errlen);
		if (n <= 0)
			return;
		m->rx_len += (size_t)n;
		m->last_read_ms = clock_mono_ms();
		parse_rx(m, err, errlen);
	}
}

/* ---- the connection's life ---- */

/* Waits for the socket or a wake-up until the next keep-alive duty. */
static void wait_io(struct mqtt *m, int64_t deadline)
{
	struct pollfd p[2] = {{.fd = mqtt_conn_fd(m->c), .events = POLLIN},
			      {.fd = m->wake_fd, .events = POLLIN}};
	int64_t now = clock_mono_ms(), due = deadline;
	uint64_t v;

	if (m->out_off < m->out.len || mqtt_conn_wants_write(m->c))
		p[0].events |= POLLOUT;
	if (m->got_connack && m->keepalive_ms > 0) {
		int64_t ping = m->ping_sent_ms ? (m->ping_sent_ms > m->last_read_ms ? m->ping_sent_ms
										 : m->last_read_ms) + m->keepalive_ms
					       : m->last_write_ms + m->keepalive_ms;
		due = due < 0 || ping < due ? ping : due;
	}
	if (mqtt_conn_pending(m->c))
		due = now;
	poll(p, 2, due < 0 ? -1 : due > now ? (int)(due - now) : 0);
	/* Emptied before the flag is cleared, and the queue is looked at after both: a
	 * publisher that saw the flag still set has queued its message before that look. */
	if (p[1].revents & POLLIN) {
		if (read(m->wake_fd, &v, sizeof(v)) < 0)
			v = 0;
		atomic_store(&m->wake_sent, 0);
	}
}

static void keepalive(struct mqtt *m, char *err, size_t errlen)
{
	int64_t now = clock_mono_ms();

	if (!m->got_connack || m->keepalive_ms <= 0)
		return;
	/* A broker busy sending a backlog answers the PINGREQ after it: any bytes count. */
	if (m->ping_sent_ms != 0 && now - m->ping_sent_ms >= m->keepalive_ms &&
	    now - m->last_read_ms >= m->keepalive_ms) {
		snprintf(err, errlen, "no answer from the broker for %d s", m->keepalive_ms / 1000);
	} else if (m->ping_sent_ms == 0 && now - m->last_write_ms >= m->keepalive_ms) {
		mqtt_wire_pingreq(&m->out);
		m->ping_sent_ms = now;
	}
}

/* What the application asked for: 0 go on, 1 disconnect cleanly (will per pause_will). */
static int wanted_stop(struct mqtt *m, int *send_will, int *dirty)
{
	int stop;

	pthread_mutex_lock(&m->mu);
	stop = !m->running || m->quit;
	*send_will = m->pause_will;
	*dirty = m->subs_dirty;
	pthread_mutex_unlock(&m->mu);
	return stop;
}

/* Sends DISCONNECT and waits (bounded) for it to go out: a connection closed before
 * would make the broker publish the will after a pause that asked for none, or drop it
 * after one that asked for it. */
static void disconnect_cleanly(struct mqtt *m, int send_will)
{
	int64_t deadline = clock_mono_ms() + DISCONNECT_TIMEOUT_MS;
	char err[256] = "";

	mqtt_wire_disconnect(&m->out, send_will ? MQTT_RC_DISCONNECT_WITH_WILL : MQTT_RC_SUCCESS);
	while (m->out_off < m->out.len && clock_mono_ms() < deadline && err[0] == '\0') {
		struct pollfd p = {.fd = mqtt_conn_fd(m->c), .events = POLLOUT};
		if (write_some(m, err, sizeof(err)) == 0 && m->out_off < m->out.len)
			poll(&p, 1, 50);
	}
	/* Closing with unread bytes would send a reset, which can overtake the DISCONNECT:
	 * read (and drop: none is acknowledged) until the broker closes its side. */
	shutdown(mqtt_conn_fd(m->c), SHUT_WR);
	while (clock_mono_ms() < deadline) {
		struct pollfd p = {.fd = mqtt_conn_fd(m->c), .events = POLLIN};
		char sink[4096];
		ssize_t n;
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(p.fd, sink, sizeof(sink), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
}

/* One connection from connect to its end. 0 after a clean disconnect; -1 when it failed
 * or was lost (then the caller waits before the next attempt). */
static int session(struct mqtt *m)
{
	char err[256] = "";
	int64_t connack_by = clock_mono_ms() + CONNECT_TIMEOUT_MS;
	int send_will = 0, dirty = 0, was_connected;

	m->c = mqtt_conn_open(&m->conn, CONNECT_TIMEOUT_MS, err, sizeof(err));
	if (m->c == NULL) {
		pthread_mutex_lock(&m->mu);
		mqtt_set_error(m, "connect failed: %s", err);
		log_warnx("event=mqtt_connect_failed %s", m->last_error);
		pthread_mutex_unlock(&m->mu);
		return -1;
	}
	m->got_connack = 0;
	m->ping_sent_ms = 0;
	m->last_read_ms = m->last_write_ms = clock_mono_ms();
	m->keepalive_ms = m->cp.keepalive_s * 1000;
	m->rx_len = 0;
	m->out.len = m->out_off = 0;
	mqtt_wire_connect(&m->out, &m->cp);
	for (;;) {
		if (wanted_stop(m, &send_will, &dirty)) {
			disconnect_cleanly(m, send_will);
			break;
		}
		if (m->got_connack && dirty)
			reconcile(m);
		if (m->got_connack)
			send_queued(m);
		if (write_some(m, err, sizeof(err)) != 0)
			break;
		wait_io(m, m->got_connack ? -1 : connack_by);
		read_some(m, err, sizeof(err));
		if (err[0] != '\0')
			break;
		if (!m->got_connack && clock_mono_ms() >= connack_by) {
			snprintf(err, sizeof(err), "connect failed: no CONNACK from the broker");
			break;
		}
		keepalive(m, err, sizeof(err));
		if (err[0] != '\0')
			break;
	}
	mqtt_conn_close(m->c);
	m->c = NULL;
	drop_subreqs(m);
	pthread_mutex_lock(&m->mu);
	was_connected = m->connected;
	m->connected = m->ready = 0;
	if (err[0] != '\0') {
		if (strncmp(err, "connect failed", 14) == 0)
			mqtt_set_error(m, "%s", err);
		else
			mqtt_set_error(m, "connection lost: %s", err);
		if (was_connected)
			log_warnx("event=mqtt_lost %s", m->last_error);
		else
			log_warnx("event=mqtt_connect_failed %s", m->last_error);
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
	return err[0] != '\0' ? -1 : 0;
}

/* Waits while the application does not want a connection; 0 when it should quit. */
static int wait_running(struct mqtt *m)
{
	int go;

	pthread_mutex_lock(&m->mu);
	while (!m->running && !m->quit)
		pthread_cond_wait(&m->cond, &m->mu);
	go = !m->quit;
	pthread_mutex_unlock(&m->mu);
	return go;
}

static void wait_backoff(struct mqtt *m, int ms)
{
	struct timespec ts;

	clock_deadline_mono(&ts, ms);
	pthread_mutex_lock(&m->mu);
	while (m->running && !m->quit &&
	       pthread_cond_timedwait(&m->cond, &m->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&m->mu);
}

/* Connects whenever the application wants it. After a lost connection the first retry
 * comes at once (a broker restart); failed connects back off up to BACKOFF_MAX_MS. */
void *mqtt_io_main(void *arg)
{
	struct mqtt *m = arg;
	int delay = 0;

	while (wait_running(m)) {
		if (session(m) == 0) {
			delay = 0;
			continue;
		}
		if (m->got_connack)
			delay = BACKOFF_FIRST_MS;
		else
			delay = delay < BACKOFF_MIN_MS ? BACKOFF_MIN_MS
				: delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
		wait_backoff(m, delay);
	}
	return NULL;
}

/* ---- after the thread ---- */

void mqtt_io_free_state(struct mqtt *m)
{
	drop_subreqs(m);
	free(m->subreqs);
	mqtt_list_free(&m->sent);
	free(m->inflight);
	free(m->id_used);
	mqtt_wbuf_free(&m->out);
	free(m->rx);
}
