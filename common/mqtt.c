/*
 * MQTT 5 client over Paho MQTTAsync (see mqtt.h). Paho calls back on its own threads;
 * the state they share with the application thread sits under one mutex.
 */
#include "common/mqtt.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <MQTTAsync.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

struct mqtt {
	MQTTAsync client;
	mqtt_message_fn on_message;
	void *ctx;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	char **filters, **stale;    /* the set; filters to unsubscribe */
	size_t n_filters, n_stale;
	int running, connecting, connected, ready, disconnecting;
	int64_t retry_at_ms;
	int backoff_ms;
	uint64_t pending;
	int max_pending;
	char last_error[256];
	/* Paho keeps pointers into these while connecting. */
	MQTTAsync_connectOptions copts;
	MQTTAsync_willOptions will;
	MQTTAsync_SSLOptions ssl;
	MQTTProperties props;
	char *uri, *username, *password, *ca, *cert, *key, *will_topic, *will_payload;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Records a problem for status reports; caller holds mu. */
static void set_error(struct mqtt *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct mqtt *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->last_error, sizeof(m->last_error), fmt, ap);
	va_end(ap);
}

/* ---- receiving ---- */

static int on_arrived(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct mqtt *m = context;
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	int rc = m->on_message(m->ctx, topic, tlen, msg->payload, (size_t)msg->payloadlen);

	if (rc != 0) {
		/* Returning, even 0, would let Paho acknowledge a message we could not keep.
		 * Ending here leaves it unacknowledged: the broker redelivers it after restart. */
		log_warnx("event=fatal reason=\"a received message could not be made durable; "
			  "exiting without acknowledging it\"");
		_exit(EXIT_FAILURE);
	}
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

/* ---- subscriptions ---- */

static void on_subscribed(void *context, MQTTAsync_successData5 *r)
{
	struct mqtt *m = context;
	int n = r->alt.sub.reasonCodeCount;
	int bad = -1;

	pthread_mutex_lock(&m->mu);
	log_debug("event=suback count=%d code=%d", n, (int)r->reasonCode);
	if (n > 1) {
		for (int i = 0; i < n && (size_t)i < m->n_filters; i++)
			if (r->alt.sub.reasonCodes[i] >= MQTTREASONCODE_UNSPECIFIED_ERROR)
				bad = i;
	} else if (r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		bad = 0;
	}
	if (bad >= 0) {
		set_error(m, "subscription to %s refused: %s",
			  (size_t)bad < m->n_filters ? m->filters[bad] : "?",
			  MQTTReasonCode_toString(n > 1 ? r->alt.sub.reasonCodes[bad] : r->reasonCode));
		log_warnx("event=subscribe_refused %s", m->last_error);
	} else {
		m->ready = m->connected;
		log_info("event=subscribed filters=%zu", m->n_filters);
	}
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
}

static void on_subscribe_failed(void *context, MQTTAsync_failureData5 *r)
{
	struct mqtt *m = context;
	pthread_mutex_lock(&m->mu);
	set_error(m, "subscribe failed: %s", r->message ? r->message : MQTTReasonCode_toString(r->reasonCode));
	log_warnx("event=subscribe_failed %s", m->last_error);
	pthread_mutex_unlock(&m->mu);
}

static char **copy_list(char **list, size_t n)
{
	char **c = xcalloc(n, sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(list[i]);
	return c;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/*
 * Subscribes the whole set and drops stale filters. Takes mu only to copy the lists:
 * Paho's calls take Paho's own lock, and Paho calls our callbacks (which take mu) while
 * holding it, so calling Paho under mu could deadlock.
 */
static void subscribe_all(struct mqtt *m)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_responseOptions uo = MQTTAsync_responseOptions_initializer;
	char **filters, **stale;
	size_t n, n_stale;
	int *qos, rc = MQTTASYNC_SUCCESS;

	pthread_mutex_lock(&m->mu);
	n = m->n_filters;
	filters = copy_list(m->filters, n);
	stale = m->stale;
	n_stale = m->n_stale;
	m->stale = NULL;
	m->n_stale = 0;
	if (n == 0)
		m->ready = m->connected;
	pthread_mutex_unlock(&m->mu);

	if (n_stale > 0)
		MQTTAsync_unsubscribeMany(m->client, (int)n_stale, stale, &uo);
	if (n > 0) {
		qos = xcalloc(n, sizeof(*qos));
		for (size_t i = 0; i < n; i++)
			qos[i] = 1;
		ro.onSuccess5 = on_subscribed;
		ro.onFailure5 = on_subscribe_failed;
		ro.context = m;
		rc = MQTTAsync_subscribeMany(m->client, (int)n, filters, qos, &ro);
		free(qos);
	}
	if (rc != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&m->mu);
		set_error(m, "subscribe: %s", MQTTAsync_strerror(rc));
		pthread_mutex_unlock(&m->mu);
	}
	free_list(filters, n);
	free_list(stale, n_stale);
}

void mqtt_subscribe_set(struct mqtt *m, const char *const *filters, size_t n)
{
	int connected;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n_filters; i++) {
		int kept = 0;
		for (size_t j = 0; j < n && !kept; j++)
			kept = strcmp(m->filters[i], filters[j]) == 0;
		if (kept) {
			free(m->filters[i]);
		} else {
			m->stale = xrealloc(m->stale, (m->n_stale + 1) * sizeof(*m->stale));
			m->stale[m->n_stale++] = m->filters[i];
		}
	}
	free(m->filters);
	m->filters = copy_list((char **)(uintptr_t)filters, n);
	m->n_filters = n;
	m->ready = 0;
	connected = m->connected;
	pthread_mutex_unlock(&m->mu);
	if (connected)
		subscribe_all(m);
}

/* ---- connecting ---- */

/*
 * Paho C (1.3.12) leaves Nagle's algorithm on and gives no access to its socket, so a
 * small publish can wait for the broker's delayed ACK (tens of ms at any rate). Turning
 * TCP_NODELAY on for every TCP socket of the process reaches Paho's; libpq sets it on its
 * own sockets already, so no other socket changes behaviour. Linux (/proc); elsewhere a
 * no-op.
 */
static void tcp_nodelay_all(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa), len = sizeof(int);
		int fd = atoi(e->d_name), type = 0, one = 1;
		if (fd <= 2 || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
		    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0 ||
		    (sa.ss_family != AF_INET && sa.ss_family != AF_INET6))
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(d);
}

static void on_connected(void *context, char *cause)
{
	struct mqtt *m = context;
	(void)cause;
	pthread_mutex_lock(&m->mu);
	m->connected = 1;
	m->connecting = 0;
	m->ready = 0;
	m->backoff_ms = BACKOFF_MIN_MS;
	m->last_error[0] = '\0';
	pthread_mutex_unlock(&m->mu);
	tcp_nodelay_all();
	subscribe_all(m);
	log_info("event=mqtt_connected");
}

static void on_connect_failed(void *context, MQTTAsync_failureData5 *r)
{
	struct mqtt *m = context;
	pthread_mutex_lock(&m->mu);
	m->connecting = 0;
	set_error(m, "connect failed: %s", r != NULL && r->message ? r->message
				       : r != NULL ? MQTTReasonCode_toString(r->reasonCode) : "?");
	m->retry_at_ms = clock_mono_ms() + m->backoff_ms;
	m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
	pthread_mutex_unlock(&m->mu);
	log_warnx("event=mqtt_connect_failed %s", m->last_error);
}

static void on_lost(void *context, char *cause)
{
	struct mqtt *m = context;
	pthread_mutex_lock(&m->mu);
	m->connected = 0;
	m->ready = 0;
	set_error(m, "connection lost: %s", cause != NULL ? cause : "?");
	pthread_mutex_unlock(&m->mu);
	log_warnx("event=mqtt_lost %s", m->last_error);
}

/* Starts one connect attempt (connecting already set); called without mu held. */
static void connect_now(struct mqtt *m)
{
	int rc;

	m->copts.onFailure5 = on_connect_failed;
	m->copts.context = m;
	rc = MQTTAsync_connect(m->client, &m->copts);
	if (rc != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&m->mu);
		m->connecting = 0;
		set_error(m, "connect: %s", MQTTAsync_strerror(rc));
		m->retry_at_ms = clock_mono_ms() + m->backoff_ms;
		pthread_mutex_unlock(&m->mu);
	}
}

void mqtt_start(struct mqtt *m)
{
	int go;

	pthread_mutex_lock(&m->mu);
	m->running = 1;
	go = !m->connected && !m->connecting;
	m->connecting |= go;
	pthread_mutex_unlock(&m->mu);
	if (go)
		connect_now(m);
}

void mqtt_tick(struct mqtt *m)
{
	int go;

	pthread_mutex_lock(&m->mu);
	go = m->running && !m->connected && !m->connecting && m->retry_at_ms != 0 &&
	     clock_mono_ms() >= m->retry_at_ms;
	if (go) {
		m->retry_at_ms = 0;
		m->connecting = 1;
	}
	pthread_mutex_unlock(&m->mu);
	if (go)
		connect_now(m);
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
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_cond_timedwait(&m->cond, &m->mu, &ts) != ETIMEDOUT || clock_mono_ms() < deadline;
}

static void on_disconnected(void *context, MQTTAsync_successData5 *r)
{
	struct mqtt *m = context;
	(void)r;
	pthread_mutex_lock(&m->mu);
	m->disconnecting = 0;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
}

static void on_disconnect_failed(void *context, MQTTAsync_failureData5 *r)
{
	(void)r;
	on_disconnected(context, NULL);
}

void mqtt_pause(struct mqtt *m, int send_will)
{
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
	int64_t deadline;

	if (send_will)
		d.reasonCode = MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE;
	pthread_mutex_lock(&m->mu);
	m->running = 0;
	m->retry_at_ms = 0;
	m->disconnecting = m->connected;
	pthread_mutex_unlock(&m->mu);
	d.timeout = 2000;
	d.onSuccess5 = on_disconnected;
	d.onFailure5 = on_disconnect_failed;
	d.context = m;
	/* Keeps the session (and its queue) on the broker: the expiry set at connect holds. */
	if (MQTTAsync_disconnect(m->client, &d) != MQTTASYNC_SUCCESS)
		on_disconnected(m, NULL);
	/* Waits for the DISCONNECT to go out: a client destroyed before would close the
	 * connection with Paho's own normal DISCONNECT, and the broker would drop the will. */
	deadline = clock_mono_ms() + d.timeout + 1000;
	pthread_mutex_lock(&m->mu);
	while (m->disconnecting && wait_until(m, deadline))
		;
	m->disconnecting = 0;
	m->connected = 0;
	m->ready = 0;
	pthread_mutex_unlock(&m->mu);
}

/* ---- publishing ---- */

static void publish_done(struct mqtt *m)
{
	pthread_mutex_lock(&m->mu);
	if (m->pending > 0)
		m->pending--;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->mu);
}

static void on_published(void *context, MQTTAsync_successData5 *r)
{
	(void)r;
	publish_done(context);
}

static void on_delivered(void *context, MQTTAsync_token token)
{
	(void)token;
	publish_done(context);
}

static void on_publish_failed(void *context, MQTTAsync_failureData5 *r)
{
	struct mqtt *m = context;
	log_warnx("event=publish_failed reason=\"%s\"",
		  r != NULL && r->message ? r->message : "?");
	publish_done(m);
}

int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
		 int retain, int timeout_ms, char *err, size_t errlen)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int64_t deadline = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	int rc;

	pthread_mutex_lock(&m->mu);
	/* While disconnected Paho buffers up to max_pending and then refuses at once:
	 * waiting would only hold up the caller for a broker that is not there. */
	while (m->connected && m->pending >= (uint64_t)m->max_pending)
		if (!wait_until(m, deadline)) {
			pthread_mutex_unlock(&m->mu);
			snprintf(err, errlen, "%" PRIu64 " publishes are waiting for the broker", m->pending);
			return -1;
		}
	m->pending++;
	pthread_mutex_unlock(&m->mu);
	msg.payload = (void *)(uintptr_t)payload;
	msg.payloadlen = (int)len;
	msg.qos = qos;
	msg.retained = retain;
	/* QoS 0 completes when sent; QoS 1 when the PUBACK arrives (on_delivered). */
	if (qos == 0) {
		ro.onSuccess5 = on_published;
		ro.onFailure5 = on_publish_failed;
		ro.context = m;
	} else {
		ro.onFailure5 = on_publish_failed;
		ro.context = m;
	}
	rc = MQTTAsync_sendMessage(m->client, topic, &msg, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		publish_done(m);
		snprintf(err, errlen, "publish to %s: %s", topic, MQTTAsync_strerror(rc));
		return -1;
	}
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

/* ---- state ---- */

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
	MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions w = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions s = MQTTAsync_SSLOptions_initializer;
	MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};

	m->copts = c;
	m->copts.keepAliveInterval = o->keepalive_s > 0 ? o->keepalive_s : 30;
	/* Up to the broker's Receive Maximum: Paho 1.3.11 waits about a second whenever the
	 * window is full, so broker-config raises Mosquitto's (max_inflight_messages). */
	m->copts.maxInflight = 1000;
	m->copts.cleanstart = o->session_expiry_s == 0;
	m->copts.automaticReconnect = 1;
	m->copts.minRetryInterval = 1;
	m->copts.maxRetryInterval = BACKOFF_MAX_MS / 1000;
	m->copts.username = m->username;
	m->copts.password = m->password;
	m->props = (MQTTProperties)MQTTProperties_initializer;
	if (o->session_expiry_s > 0) {
		expiry.value.integer4 = o->session_expiry_s;
		MQTTProperties_add(&m->props, &expiry);
		m->copts.connectProperties = &m->props;
	}
	if (m->will_topic != NULL) {
		m->will = w;
		m->will.topicName = m->will_topic;
		m->will.message = m->will_payload;
		m->will.retained = o->will_retain;
		m->will.qos = 1;
		m->copts.will = &m->will;
	}
	if (strncmp(m->uri, "mqtts://", 8) == 0 || strncmp(m->uri, "ssl://", 6) == 0) {
		m->ssl = s;
		m->ssl.trustStore = m->ca;
		m->ssl.keyStore = m->cert;
		m->ssl.privateKey = m->key;
		m->ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
		m->ssl.enableServerCertAuth = 1;
		m->copts.ssl = &m->ssl;
	}
}

struct mqtt *mqtt_create(const struct mqtt_options *o, mqtt_message_fn on_message, void *ctx,
			 char *err, size_t errlen)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	struct mqtt *m = xcalloc(1, sizeof(*m));
	int rc;

	m->on_message = on_message;
	m->ctx = ctx;
	m->max_pending = o->max_pending > 0 ? o->max_pending : 10000;
	m->backoff_ms = BACKOFF_MIN_MS;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->uri = xstrdup(o->uri);
	m->username = dup_or_null(o->username);
	m->password = dup_or_null(o->password);
	m->ca = dup_or_null(o->ca_file);
	m->cert = dup_or_null(o->cert_file);
	m->key = dup_or_null(o->key_file);
	m->will_topic = dup_or_null(o->will_topic);
	m->will_payload = dup_or_null(o->will_payload);
	/* Publishes made while the broker is away wait in Paho, bounded like the rest. */
	co.sendWhileDisconnected = 1;
	/* Also before the first connect: alerts publishes restored state before it starts. */
	co.allowDisconnectedSendAtAnyTime = 1;
	co.maxBufferedMessages = m->max_pending;
	rc = MQTTAsync_createWithOptions(&m->client, m->uri, o->client_id,
					 MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "MQTT client for %s: %s", o->uri, MQTTAsync_strerror(rc));
		m->client = NULL;
		mqtt_free(m);
		return NULL;
	}
	MQTTAsync_setCallbacks(m->client, m, on_lost, on_arrived, on_delivered);
	MQTTAsync_setConnected(m->client, m, on_connected);
	set_options(m, o);
	return m;
}

void mqtt_free(struct mqtt *m)
{
	if (m == NULL)
		return;
	if (m->client != NULL)
		MQTTAsync_destroy(&m->client);
	for (size_t i = 0; i < m->n_filters; i++)
		free(m->filters[i]);
	for (size_t i = 0; i < m->n_stale; i++)
		free(m->stale[i]);
	free(m->filters);
	free(m->stale);
	MQTTProperties_free(&m->props);
	free(m->uri);
	free(m->username);
	free(m->password);
	free(m->ca);
	free(m->cert);
	free(m->key);
	free(m->will_topic);
	free(m->will_payload);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cond);
	free(m);
}
