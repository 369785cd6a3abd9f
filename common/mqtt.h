/*
 * The daemons' MQTT 5 client (mqtt.c and mqtt_io.c, on mqtt_wire.c and mqtt_conn.c): a persistent
 * session (clean start off, a session expiry), subscriptions renewed on every connect,
 * reconnect with backoff including when the very first connect fails, a last will, TLS,
 * and QoS 1 publishing with a bound on what is waiting.
 *
 * Threads: each client has one I/O thread, which runs the message callback. A QoS 1
 * message is acknowledged to the broker only after the callback returned 0, so the
 * callback must have made the message durable by then. Everything else may be called
 * from any thread, mqtt_publish also from the callback.
 */
#ifndef CITYLINK_MQTT_H
#define CITYLINK_MQTT_H

#include <stddef.h>
#include <stdint.h>

struct mqtt_options {
	const char *uri;           /* mqtt://host:port, mqtts://host:port (TLS) */
	const char *client_id;
	const char *username, *password;  /* NULL: none */
	const char *ca_file, *cert_file, *key_file; /* TLS; NULL: system CAs / no client cert */
	int keepalive_s;           /* 0: 30 */
	uint32_t session_expiry_s; /* 0: a clean session that ends with the connection */
	const char *will_topic;    /* NULL: no will */
	const char *will_payload;
	int will_retain;
	int max_pending;           /* QoS 1 publishes not yet acknowledged before publish waits; 0: 10000 */
};

/* Called for each message; return 0 when it is durable. Non-zero means it could not be
 * kept: the process then exits at once, without acknowledging it, so the broker
 * redelivers it when the service is back (a full or failing disk is an ops problem that
 * must not turn into silent loss). */
typedef int (*mqtt_message_fn)(void *ctx, const char *topic, size_t topic_len,
			       const void *payload, size_t payload_len);

struct mqtt;

/* Creates a client (not connected yet). Returns it (caller frees with mqtt_free) or
 * NULL with err. */
struct mqtt *mqtt_create(const struct mqtt_options *o, mqtt_message_fn on_message, void *ctx,
			 char *err, size_t errlen);
void mqtt_free(struct mqtt *m);

/* Sets the filters to hold at QoS 1 (copied). Filters no longer in the set are
 * unsubscribed; all are (re)subscribed on every connect. */
void mqtt_subscribe_set(struct mqtt *m, const char *const *filters, size_t n);

/* Starts connecting (and keeps reconnecting, with backoff, until mqtt_pause). */
void mqtt_start(struct mqtt *m);
/* Disconnects, keeping the session on the broker, and stops reconnecting; no message
 * callback runs after it returns. send_will: ask the broker to publish the last will
 * anyway (a clean stop says "offline" too). */
void mqtt_pause(struct mqtt *m, int send_will);

/* 1 once connected and every filter of the set was granted QoS 1 (or 0 if the broker
 * downgraded it), since the last connect. */
int mqtt_ready(struct mqtt *m);
int mqtt_connected(struct mqtt *m);
/* The last connection or subscription problem, "" if none (a copy: thread-safe). */
void mqtt_last_error(struct mqtt *m, char *buf, size_t len);

/*
 * Publishes at qos (0 or 1; the bytes are copied). While connected, waits while
 * max_pending publishes are queued or unacknowledged (bounded memory when the broker is
 * slow; timeout_ms < 0 waits for ever); while disconnected, keeps up to max_pending for
 * the next connection and refuses beyond at once. From the message callback it never
 * waits. Returns 0, or -1 on timeout, refusal or a message too large for MQTT (err set).
 */
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len, int qos,
		 int retain, int timeout_ms, char *err, size_t errlen);
/* Waits until every publish is acknowledged or timeout_ms passed; 0 when all were. */
int mqtt_flush(struct mqtt *m, int timeout_ms);

#endif
