/*
 * A bare MQTT 5 publisher (see wire_publish.h): CONNECT, CONNACK, then PUBLISH packets
 * built into one buffer and written with one send(), PUBACKs counted from whole reads.
 * The packets themselves are encoded and decoded by common/mqtt_wire.c; this file only
 * owns the socket.
 */
#include "bench/wire_publish.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/mqtt_wire.h"
#include "common/xmalloc.h"

#define RX_SIZE 65536  /* also the largest packet accepted from the broker */

struct wire {
	int fd;
	struct mqtt_wbuf out;
	unsigned char rx[RX_SIZE];
	size_t rx_len;
	uint16_t packet_id;
	long long inflight, queued_qos1, receive_max;
};

/* ---- the connection ---- */

static int parse_uri(const char *uri, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *hp = strstr(uri, "://");
	const char *colon;

	if (hp == NULL || (strncmp(uri, "tcp", 3) != 0 && strncmp(uri, "mqtt", 4) != 0))
		return -1;
	hp += 3;
	colon = strrchr(hp, ':');
	if (colon == NULL || (size_t)(colon - hp) >= hostlen || strlen(colon + 1) >= portlen)
		return -1;
	snprintf(host, hostlen, "%.*s", (int)(colon - hp), hp);
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

static int dial(const char *uri, char *err, size_t errlen)
{
	char host[256], port[16];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	int fd, one = 1, rc;

	if (parse_uri(uri, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(err, errlen, "--batch needs a tcp://HOST:PORT broker, not %s", uri);
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(err, errlen, "connect to %s: %s", uri, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	/* As the broker does (set_tcp_nodelay): small batches must not wait for delayed ACKs. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Receives more bytes into rx (blocking). -1 when the connection closed or rx is full. */
static int recv_more(struct wire *w)
{
	ssize_t n = w->rx_len < RX_SIZE ? recv(w->fd, w->rx + w->rx_len, RX_SIZE - w->rx_len, 0) : -1;

	if (n <= 0)
		return -1;
	w->rx_len += (size_t)n;
	return 0;
}

/* Drops the first n bytes of rx: a packet that has been handled. */
static void rx_consume(struct wire *w, size_t n)
{
	memmove(w->rx, w->rx + n, w->rx_len - n);
	w->rx_len -= n;
}

/* Reads the CONNACK (blocking) and keeps its Receive Maximum. PUBACKs are read in bulk
 * by wire_read_acks. */
static int read_connack(struct wire *w, char *err, size_t errlen)
{
	struct mqtt_frame f;
	struct mqtt_connack ack;
	int rc;

	while ((rc = mqtt_wire_frame(w->rx, w->rx_len, RX_SIZE, &f)) == 0)
		if (recv_more(w) != 0)
			break;
	if (rc != 1 || f.type != MQTT_CONNACK) {
		snprintf(err, errlen, "no CONNACK from the broker");
		return -1;
	}
	rc = mqtt_wire_parse_connack(&f, &ack);
	/* The reason is read before the properties, so a refusal is reported as one. */
	if (ack.reason != MQTT_RC_SUCCESS) {
		snprintf(err, errlen, "the broker refused the connection (reason 0x%02x: %s)",
			 ack.reason, mqtt_reason_string(ack.reason));
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "the broker sent a malformed CONNACK");
		return -1;
	}
	w->receive_max = ack.receive_max;
	rx_consume(w, f.total);
	return 0;
}

struct wire *wire_connect(const char *uri, const char *client_id, char *err, size_t errlen)
{
	struct wire *w = xcalloc(1, sizeof(*w));
	/* Clean start, keep-alive 0 (none), no login, no properties. */
	struct mqtt_connect_params c = {.client_id = client_id, .clean_start = 1};

	w->fd = dial(uri, err, errlen);
	if (w->fd < 0)
		goto fail;
	if (mqtt_wire_connect(&w->out, &c) != 0) {
		snprintf(err, errlen, "client id too long");
		goto fail;
	}
	if (wire_send(w, err, errlen) != 0 || read_connack(w, err, errlen) != 0)
		goto fail;
	return w;
fail:
	wire_close(w);
	return NULL;
}

void wire_close(struct wire *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0) {
		/* Whatever was queued and not sent is dropped, as the messages were never sent. */
		w->out.len = 0;
		mqtt_wire_disconnect(&w->out, MQTT_RC_SUCCESS);
		(void)send(w->fd, w->out.data, w->out.len, MSG_NOSIGNAL);
		close(w->fd);
	}
	mqtt_wbuf_free(&w->out);
	free(w);
}

long long wire_receive_max(const struct wire *w) { return w->receive_max; }
long long wire_inflight(const struct wire *w) { return w->inflight; }

/* ---- publishing ---- */

int wire_queue(struct wire *w, const char *topic, size_t tlen, const char *payload, size_t plen,
	       int qos)
{
	int q = qos > 0 ? 1 : 0;  /* QoS 2 is not spoken here */
	long size = mqtt_wire_publish_size(tlen, plen, q);
	unsigned char *p;
	size_t id_off;

	if (size < 0)
		return -1;
	mqtt_wbuf_reserve(&w->out, (size_t)size);
	p = w->out.data + w->out.len;
	w->out.len += mqtt_wire_publish(p, topic, tlen, payload, plen, q, 0, &id_off);
	if (q > 0) {
		/* 1..65535, wrapping; the in-flight window is smaller. */
		w->packet_id = (uint16_t)(w->packet_id % 65535 + 1);
		mqtt_wire_publish_set_id(p, id_off, w->packet_id);
		w->queued_qos1++;
	}
	return 0;
}

int wire_send(struct wire *w, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < w->out.len) {
		ssize_t n = send(w->fd, w->out.data + off, w->out.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "send: %s", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	w->out.len = 0;
	w->inflight += w->queued_qos1;
	w->queued_qos1 = 0;
	return 0;
}

/* Acts on one whole packet from the broker: a PUBACK is counted, a DISCONNECT or a
 * refused message is an error, anything else is ignored. */
static int handle_packet(struct wire *w, const struct mqtt_frame *f, char *err, size_t errlen)
{
	uint16_t id;
	uint8_t reason;

	if (f->type == MQTT_DISCONNECT) {
		if (mqtt_wire_parse_disconnect(f, &reason) != 0)
			snprintf(err, errlen, "the broker sent a malformed DISCONNECT");
		else
			snprintf(err, errlen, "the broker disconnected (reason 0x%02x: %s)",
				 reason, mqtt_reason_string(reason));
		return -1;
	}
	if (f->type != MQTT_PUBACK)
		return 0;
	if (mqtt_wire_parse_ack(f, &id, &reason) != 0) {
		snprintf(err, errlen, "the broker sent a malformed PUBACK");
		return -1;
	}
	if (reason >= 0x80) {
		snprintf(err, errlen, "the broker refused a message (reason 0x%02x: %s)", reason,
			 mqtt_reason_string(reason));
		return -1;
	}
	w->inflight--;
	return 0;
}

/* Handles whole packets at the front of rx; keeps a partial one for the next read. */
static int count_acks(struct wire *w, char *err, size_t errlen)
{
	struct mqtt_frame f;
	size_t off = 0;
	int rc;

	while ((rc = mqtt_wire_frame(w->rx + off, w->rx_len - off, RX_SIZE, &f)) == 1) {
		if (handle_packet(w, &f, err, errlen) != 0)
			return -1;
		off += f.total;
	}
	if (rc == -2) {
		snprintf(err, errlen, "the broker sent a packet over %d bytes", RX_SIZE);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "the broker sent a malformed packet");
		return -1;
	}
	rx_consume(w, off);
	return 0;
}

int wire_read_acks(struct wire *w, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd p = {.fd = w->fd, .events = POLLIN};
	int rc = poll(&p, 1, timeout_ms);
	ssize_t n;

	if (rc < 0 && errno != EINTR) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -1;
	}
	if (rc <= 0)
		return 0;
	n = recv(w->fd, w->rx + w->rx_len, RX_SIZE - w->rx_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		snprintf(err, errlen, "the broker closed the connection");
		return -1;
	}
	if (n > 0)
		w->rx_len += (size_t)n;
	return count_acks(w, err, errlen);
}
