/*
 * A bare MQTT 5 publisher for the benchmarks' load generator (mqtt-load publish --batch):
 * many PUBLISH packets per send() on a plain TCP socket. Devices do not run on the
 * platform's host; through Paho, publishing 10k msg/s cost this 2-core machine a third
 * of a core that the measured chain then lacked. Bench code only: no TLS, no login, no
 * reconnect, no keep-alive (the CONNECT asks for none).
 */
#ifndef CITYLINK_BENCH_WIRE_PUBLISH_H
#define CITYLINK_BENCH_WIRE_PUBLISH_H

#include <stddef.h>

struct wire;

/* Connects to tcp://HOST:PORT (or mqtt://) with a clean session. NULL and err on failure. */
struct wire *wire_connect(const char *uri, const char *client_id, char *err, size_t errlen);
void wire_close(struct wire *w);

/* The broker's Receive Maximum from CONNACK (65535 when it gave none). */
long long wire_receive_max(const struct wire *w);

/* Appends one PUBLISH to the send buffer; wire_send writes the buffer. -1 if too large. */
int wire_queue(struct wire *w, const char *topic, size_t tlen, const char *payload, size_t plen,
	       int qos);
int wire_send(struct wire *w, char *err, size_t errlen);

/* QoS 1 messages sent and not yet acknowledged. */
long long wire_inflight(const struct wire *w);

/* Reads what the broker sent within timeout_ms and counts the PUBACKs in it. -1 and err
 * when the connection broke or the broker refused a message. */
int wire_read_acks(struct wire *w, int timeout_ms, char *err, size_t errlen);

#endif
