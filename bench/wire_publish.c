/*
 * A bare MQTT 5 publisher (see wire_publish.h): CONNECT, CONNACK, then PUBLISH packets
 * built into one buffer and written with one send(), PUBACKs counted from whole reads.
 */
#include "bench/wire_publish.h"

#include <arpa/inet.h>
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

#define MQTT_CONNECT 0x10
#define MQTT_CONNACK 0x20
#define MQTT_PUBLISH 0x30
#define MQTT_PUBACK 0x40
#define MQTT_DISCONNECT 0xE0
#define PROP_RECEIVE_MAX 0x21
#define RX_SIZE 65536

struct wire {
	int fd;
	unsigned char *out;
	size_t out_len, out_cap;
	unsigned char rx[RX_SIZE];
	size_t rx_len;
	unsigned packet_id;
	long long inflight, queued_qos1, receive_max;
};

/* ---- encoding ---- */

static int out_reserve(struct wire *w, size_t more)
{
	if (w->out_len + more <= w->out_cap)
		return 0;
	size_t cap = w->out_cap ? w->out_cap : 65536;
	while (cap < w->out_len + more)
		cap *= 2;
	unsigned char *p = realloc(w->out, cap);
	if (p == NULL)
		return -1;
	w->out = p;
	w->out_cap = cap;
	return 0;
}

static void put_byte(struct wire *w, unsigned b) { w->out[w->out_len++] = (unsigned char)b; }

static void put_u16(struct wire *w, size_t v)
{
	put_byte(w, (unsigned)(v >> 8) & 0xFF);
	put_byte(w, (unsigned)v & 0xFF);
}

static void put_varint(struct wire *w, size_t v)
{
	do {
		unsigned b = v % 128;
		v /= 128;
		put_byte(w, v ? b | 128 : b);
	} while (v);
}

static void put_bytes(struct wire *w, const void *p, size_t n)
{
	memcpy(w->out + w->out_len, p, n);
	w->out_len += n;
}

/* ---- decoding ---- */

/* Decodes the variable byte integer at p[0..len): the bytes it takes (1-4), 0 when more
 * bytes are needed, -1 when it is longer than MQTT allows. */
static int get_varint(const unsigned char *p, size_t len, size_t *value)
{
	size_t v = 0, mult = 1;

	for (size_t i = 0; i < 4; i++, mult *= 128) {
		if (i >= len)
			return 0;
		v += (p[i] & 127u) * mult;
		if (!(p[i] & 128u)) {
			*value = v;
			return (int)i + 1;
		}
	}
	return -1;
}

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

/* CONNECT: MQTT 5, clean start, keep-alive 0 (none), no properties, no login. */
static int queue_connect(struct wire *w, const char *client_id)
{
	static const unsigned char head[] = {0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 0, 0};
	size_t idlen = strlen(client_id);

	if (idlen > 65535 || out_reserve(w, 8 + sizeof(head) + idlen) != 0)
		return -1;
	put_byte(w, MQTT_CONNECT);
	put_varint(w, sizeof(head) + 2 + idlen);
	put_bytes(w, head, sizeof(head));
	put_u16(w, idlen);
	put_bytes(w, client_id, idlen);
	return 0;
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

/* Reads one whole packet of at most RX_SIZE bytes into w->rx (blocking): its length,
 * or -1. Used for CONNACK only; PUBACKs are read in bulk by wire_read_acks. */
static ssize_t read_packet(struct wire *w, size_t *body_off)
{
	size_t len = 0;
	int n;

	while ((n = get_varint(w->rx + 1, w->rx_len > 0 ? w->rx_len - 1 : 0, &len)) == 0)
		if (recv_more(w) != 0)
			return -1;
	if (n < 0 || 1 + (size_t)n + len > RX_SIZE)
		return -1;
	while (w->rx_len < 1 + (size_t)n + len)
		if (recv_more(w) != 0)
			return -1;
	*body_off = 1 + (size_t)n;
	return (ssize_t)(1 + (size_t)n + len);
}

/* Receive Maximum from CONNACK properties; the rest are skipped by their types. */
static long long receive_max_of(const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned id = p[i++];
		size_t skip;
		switch (id) {
		case PROP_RECEIVE_MAX:
			return i + 2 <= len ? (long long)(p[i] << 8 | p[i + 1]) : 65535;
		case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
			skip = 1;
			break;
		case 0x13: case 0x22:
			skip = 2;
			break;
		case 0x11: case 0x27:
			skip = 4;
			break;
		case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C: case 0x1F:
			skip = i + 2 <= len ? 2 + (size_t)(p[i] << 8 | p[i + 1]) : len;
			break;
		case 0x26: /* user property: two strings */
			skip = i + 2 <= len ? 2 + (size_t)(p[i] << 8 | p[i + 1]) : len;
			if (i + skip + 2 <= len)
				skip += 2 + (size_t)(p[i + skip] << 8 | p[i + skip + 1]);
			break;
		default:
			return 65535;
		}
		i += skip;
	}
	return 65535;
}

static int read_connack(struct wire *w, char *err, size_t errlen)
{
	size_t off, props = 0;
	ssize_t end = read_packet(w, &off);
	int n;

	if (end < 0 || w->rx[0] != MQTT_CONNACK || (size_t)end < off + 3) {
		snprintf(err, errlen, "no CONNACK from the broker");
		return -1;
	}
	if (w->rx[off + 1] != 0) {
		snprintf(err, errlen, "the broker refused the connection (reason 0x%02x)",
			 w->rx[off + 1]);
		return -1;
	}
	/* MQTT 5 CONNACK: flags, reason, then the properties' length and the properties. */
	n = get_varint(w->rx + off + 2, (size_t)end - off - 2, &props);
	if (n > 0 && off + 2 + (size_t)n + props <= (size_t)end)
		w->receive_max = receive_max_of(w->rx + off + 2 + n, props);
	else
		w->receive_max = 65535;
	memmove(w->rx, w->rx + end, w->rx_len - (size_t)end);
	w->rx_len -= (size_t)end;
	return 0;
}

struct wire *wire_connect(const char *uri, const char *client_id, char *err, size_t errlen)
{
	struct wire *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->fd = dial(uri, err, errlen);
	if (w->fd < 0)
		goto fail;
	if (queue_connect(w, client_id) != 0) {
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
		static const unsigned char bye[] = {MQTT_DISCONNECT, 0};
		(void)send(w->fd, bye, sizeof(bye), MSG_NOSIGNAL);
		close(w->fd);
	}
	free(w->out);
	free(w);
}

long long wire_receive_max(const struct wire *w) { return w->receive_max; }
long long wire_inflight(const struct wire *w) { return w->inflight; }

/* ---- publishing ---- */

int wire_queue(struct wire *w, const char *topic, size_t tlen, const char *payload, size_t plen,
	       int qos)
{
	size_t rem = 2 + tlen + (qos > 0 ? 2 : 0) + 1 + plen;

	if (tlen > 65535 || rem > 268435455 || out_reserve(w, 5 + rem) != 0)
		return -1;
	put_byte(w, MQTT_PUBLISH | (qos > 0 ? 0x02 : 0));
	put_varint(w, rem);
	put_u16(w, tlen);
	put_bytes(w, topic, tlen);
	if (qos > 0) {
		w->packet_id = w->packet_id % 65535 + 1; /* 1..65535; the window is smaller */
		put_u16(w, w->packet_id);
		w->queued_qos1++;
	}
	put_byte(w, 0); /* no properties */
	put_bytes(w, payload, plen);
	return 0;
}

int wire_send(struct wire *w, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < w->out_len) {
		ssize_t n = send(w->fd, w->out + off, w->out_len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "send: %s", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	w->out_len = 0;
	w->inflight += w->queued_qos1;
	w->queued_qos1 = 0;
	return 0;
}

/* Counts whole packets at the front of rx; keeps a partial one for the next read. */
static int count_acks(struct wire *w, char *err, size_t errlen)
{
	size_t off = 0;

	while (w->rx_len - off >= 2) {
		unsigned type = w->rx[off] & 0xF0u;
		size_t len = 0, i;
		int n = get_varint(w->rx + off + 1, w->rx_len - off - 1, &len);
		if (n < 0) {
			snprintf(err, errlen, "the broker sent a malformed packet");
			return -1;
		}
		i = off + 1 + (size_t)n;
		if (n == 0 || w->rx_len - i < len)
			break;
		if (type == MQTT_DISCONNECT) {
			snprintf(err, errlen, "the broker disconnected (reason 0x%02x)",
				 len > 0 ? w->rx[i] : 0);
			return -1;
		}
		if (type == MQTT_PUBACK) {
			if (len > 2 && w->rx[i + 2] >= 0x80) {
				snprintf(err, errlen, "the broker refused a message (reason 0x%02x)",
					 w->rx[i + 2]);
				return -1;
			}
			w->inflight--;
		}
		off = i + len;
	}
	memmove(w->rx, w->rx + off, w->rx_len - off);
	w->rx_len -= off;
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
