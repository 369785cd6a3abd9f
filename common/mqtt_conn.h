/*
 * The byte stream under the MQTT client: TCP, or TLS (OpenSSL) over it, to the broker
 * of a mqtt:// or mqtts:// URI. Opening blocks (bounded by a timeout); afterwards the
 * socket is non-blocking and reads and writes return what they could do at once. One
 * thread uses a connection at a time.
 */
#ifndef CITYLINK_MQTT_CONN_H
#define CITYLINK_MQTT_CONN_H

#include <stddef.h>
#include <sys/types.h>

struct mqtt_conn_options {
	const char *uri;        /* mqtt://host:port or tcp://; mqtts:// or ssl:// for TLS */
	const char *ca_file;    /* TLS: trusted CAs; NULL: the system's */
	const char *cert_file;  /* TLS client certificate and its key; NULL: none */
	const char *key_file;
};

struct mqtt_conn;

/* Checks a URI (and that TLS files are given in pairs): 0, or -1 with err. */
int mqtt_conn_check(const struct mqtt_conn_options *o, char *err, size_t errlen);

/* Connects within timeout_ms: TCP with TCP_NODELAY, then the TLS handshake with the
 * server's certificate checked against the host name. Returns the connection (caller
 * closes with mqtt_conn_close) or NULL with err. */
struct mqtt_conn *mqtt_conn_open(const struct mqtt_conn_options *o, int timeout_ms, char *err,
				 size_t errlen);
void mqtt_conn_close(struct mqtt_conn *c);

int mqtt_conn_fd(const struct mqtt_conn *c);

/* Bytes read (>0), 0 when nothing can be read now, -1 when the connection is closed or
 * broken (err says which). */
ssize_t mqtt_conn_read(struct mqtt_conn *c, void *buf, size_t len, char *err, size_t errlen);
/* Bytes written (>=0, possibly fewer than len), -1 when broken (err). */
ssize_t mqtt_conn_write(struct mqtt_conn *c, const void *buf, size_t len, char *err,
			size_t errlen);
/* 1 when TLS holds decrypted bytes not read yet (poll would not report them). */
int mqtt_conn_pending(const struct mqtt_conn *c);
/* 1 when the last read or write could only go on once the socket is writable (TLS). */
int mqtt_conn_wants_write(const struct mqtt_conn *c);

#endif
