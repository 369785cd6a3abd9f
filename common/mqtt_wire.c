/*
 * MQTT 5 encoding and decoding (see mqtt_wire.h). Decoders read through a cursor that
 * fails instead of reading past the end, so every length field from the broker is checked
 * in one place.
 */
#include "common/mqtt_wire.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

#define MAX_REMAINING 268435455u  /* the largest remaining length a varint can say */

/* Property identifiers the client reads or writes (MQTT 5.0 §2.2.2.2). */
#define PROP_SESSION_EXPIRY 0x11
#define PROP_SERVER_KEEPALIVE 0x13
#define PROP_RECEIVE_MAX 0x21
#define PROP_TOPIC_ALIAS 0x23
#define PROP_MAX_QOS 0x24
#define PROP_MAX_PACKET 0x27

/* ---- output ---- */

void mqtt_wbuf_reserve(struct mqtt_wbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;

	if (b->len + more <= b->cap)
		return;
	while (cap < b->len + more)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void mqtt_wbuf_free(struct mqtt_wbuf *b)
{
	free(b->data);
	*b = (struct mqtt_wbuf){0};
}

static unsigned char *put_byte(unsigned char *p, unsigned v)
{
	*p = (unsigned char)v;
	return p + 1;
}

static unsigned char *put_u16(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
	p = put_u16(p, v >> 16);
	return put_u16(p, v & 0xFFFF);
}

static size_t varint_size(size_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static unsigned char *put_varint(unsigned char *p, size_t v)
{
	do {
		unsigned b = v % 128;
		v /= 128;
		*p++ = (unsigned char)(v ? b | 128 : b);
	} while (v);
	return p;
}

static unsigned char *put_bin(unsigned char *p, const void *s, size_t n)
{
	p = put_u16(p, n);
	memcpy(p, s, n);
	return p + n;
}

/* Appends a packet whose body is body_len bytes and returns where the body goes; the
 * caller writes exactly body_len bytes there. */
static unsigned char *begin(struct mqtt_wbuf *b, unsigned first, size_t body_len)
{
	unsigned char *p;

	mqtt_wbuf_reserve(b, 1 + varint_size(body_len) + body_len);
	p = b->data + b->len;
	p = put_byte(p, first);
	p = put_varint(p, body_len);
	b->len = (size_t)(p - b->data) + body_len;
	return p;
}

static size_t slen(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

int mqtt_wire_connect(struct mqtt_wbuf *b, const struct mqtt_connect_params *c)
{
	static const unsigned char proto[] = {0, 4, 'M', 'Q', 'T', 'T', 5};
	size_t id = slen(c->client_id), user = slen(c->username), pass = slen(c->password);
	size_t wt = slen(c->will_topic), props, body;
	unsigned flags = c->clean_start ? 0x02 : 0;
	unsigned char *p;

	if (id > 65535 || user > 65535 || pass > 65535 || wt > 65535 || c->will_len > 65535)
		return -1;
	props = (c->session_expiry_s ? 5 : 0) + (c->receive_max ? 3 : 0) + (c->max_packet ? 5 : 0);
	body = sizeof(proto) + 1 + 2 + varint_size(props) + props + 2 + id;
	if (c->will_topic != NULL) {
		flags |= 0x04 | (unsigned)(c->will_qos & 3) << 3 | (c->will_retain ? 0x20 : 0);
		body += 1 + 2 + wt + 2 + c->will_len;  /* no will properties */
	}
	if (c->username != NULL) {
		flags |= 0x80;
		body += 2 + user;
	}
	if (c->password != NULL) {
		flags |= 0x40;
		body += 2 + pass;
	}
	p = begin(b, MQTT_CONNECT << 4, body);
	memcpy(p, proto, sizeof(proto));
	p = put_byte(p + sizeof(proto), flags);
	p = put_u16(p, c->keepalive_s);
	p = put_varint(p, props);
	if (c->session_expiry_s)
		p = put_u32(put_byte(p, PROP_SESSION_EXPIRY), c->session_expiry_s);
	if (c->receive_max)
		p = put_u16(put_byte(p, PROP_RECEIVE_MAX), c->receive_max);
	if (c->max_packet)
		p = put_u32(put_byte(p, PROP_MAX_PACKET), c->max_packet);
	p = put_bin(p, c->client_id != NULL ? c->client_id : "", id);
	if (c->will_topic != NULL) {
		p = put_varint(p, 0);
		p = put_bin(p, c->will_topic, wt);
		p = put_bin(p, c->will_payload != NULL ? c->will_payload : "", c->will_len);
	}
	if (c->username != NULL)
		p = put_bin(p, c->username, user);
	if (c->password != NULL)
		put_bin(p, c->password, pass);
	return 0;
}

int mqtt_wire_subscribe(struct mqtt_wbuf *b, uint16_t id, const char *filter, int qos)
{
	size_t n = strlen(filter);
	unsigned char *p;

	if (n > 65535)
		return -1;
	p = begin(b, MQTT_SUBSCRIBE << 4 | 0x02, 2 + 1 + 2 + n + 1);
	p = put_varint(put_u16(p, id), 0);
	/* Options: the QoS; retained messages are sent at subscribe (retain handling 0). */
	put_byte(put_bin(p, filter, n), (unsigned)qos & 3);
	return 0;
}

int mqtt_wire_unsubscribe(struct mqtt_wbuf *b, uint16_t id, const char *filter)
{
	size_t n = strlen(filter);
	unsigned char *p;

	if (n > 65535)
		return -1;
	p = begin(b, MQTT_UNSUBSCRIBE << 4 | 0x02, 2 + 1 + 2 + n);
	put_bin(put_varint(put_u16(p, id), 0), filter, n);
	return 0;
}

void mqtt_wire_ack(struct mqtt_wbuf *b, int type, uint16_t id)
{
	/* Success with no properties: MQTT 5 lets the reason code be left out. */
	put_u16(begin(b, (unsigned)type << 4 | (type == MQTT_PUBREL ? 0x02 : 0), 2), id);
}

void mqtt_wire_pingreq(struct mqtt_wbuf *b)
{
	begin(b, MQTT_PINGREQ << 4, 0);
}

void mqtt_wire_disconnect(struct mqtt_wbuf *b, uint8_t reason)
{
	put_byte(begin(b, MQTT_DISCONNECT << 4, 1), reason);
}

long mqtt_wire_publish_size(size_t topic_len, size_t payload_len, int qos)
{
	size_t body = 2 + topic_len + (qos > 0 ? 2 : 0) + 1 + payload_len;

	if (topic_len > 65535 || payload_len > MAX_REMAINING || body > MAX_REMAINING)
		return -1;
	return (long)(1 + varint_size(body) + body);
}

size_t mqtt_wire_publish(unsigned char *out, const char *topic, size_t topic_len,
			 const void *payload, size_t payload_len, int qos, int retain,
			 size_t *id_off)
{
	size_t body = 2 + topic_len + (qos > 0 ? 2 : 0) + 1 + payload_len;
	unsigned char *p = out;

	p = put_byte(p, MQTT_PUBLISH << 4 | (unsigned)(qos & 3) << 1 | (retain ? 1 : 0));
	p = put_varint(p, body);
	p = put_bin(p, topic, topic_len);
	*id_off = (size_t)(p - out);
	if (qos > 0)
		p = put_u16(p, 0);
	p = put_varint(p, 0);
	memcpy(p, payload, payload_len);
	return (size_t)(p - out) + payload_len;
}

void mqtt_wire_publish_set_id(unsigned char *packet, size_t id_off, uint16_t id)
{
	put_u16(packet + id_off, id);
}

void mqtt_wire_publish_set_dup(unsigned char *packet)
{
	packet[0] |= 0x08;
}

/* ---- input ---- */

/* Reads the varint at p[0..len): bytes taken (1-4), 0 if more are needed, -1 malformed. */
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

int mqtt_wire_frame(const unsigned char *p, size_t len, size_t max, struct mqtt_frame *f)
{
	size_t body;
	int n;

	f->total = 0;
	if (len < 2)
		return 0;
	if ((n = get_varint(p + 1, len - 1, &body)) <= 0)
		return n;
	if (1 + (size_t)n + body > max)
		return -2;
	if (len < 1 + (size_t)n + body) {
		f->total = 1 + (size_t)n + body;
		return 0;
	}
	f->type = p[0] >> 4;
	f->flags = p[0] & 15;
	f->body = p + 1 + n;
	f->body_len = body;
	f->total = 1 + (size_t)n + body;
	return 1;
}

/* A bounded reader: every get fails (and keeps failing) past the end. */
struct cursor {
	const unsigned char *p, *end;
	int bad;
};

static int need(struct cursor *c, size_t n)
{
	if (c->bad || (size_t)(c->end - c->p) < n)
		c->bad = 1;
	return !c->bad;
}

static unsigned get_u8(struct cursor *c)
{
	return need(c, 1) ? *c->p++ : 0;
}

static unsigned get_u16(struct cursor *c)
{
	unsigned v;

	if (!need(c, 2))
		return 0;
	v = (unsigned)c->p[0] << 8 | c->p[1];
	c->p += 2;
	return v;
}

static uint32_t get_u32(struct cursor *c)
{
	uint32_t hi = get_u16(c);
	return hi << 16 | get_u16(c);
}

static size_t get_vint(struct cursor *c)
{
	size_t v = 0;
	int n = c->bad ? -1 : get_varint(c->p, (size_t)(c->end - c->p), &v);

	if (n <= 0) {
		c->bad = 1;
		return 0;
	}
	c->p += n;
	return v;
}

static const unsigned char *get_bin(struct cursor *c, size_t *n)
{
	const unsigned char *s;

	*n = get_u16(c);
	if (!need(c, *n))
		return NULL;
	s = c->p;
	c->p += *n;
	return s;
}

/* Calls fn for each property of the block at the cursor and moves past it. fn reads the
 * value for the ids it knows and returns 1; for others it returns 0 and the value is
 * skipped by its type. */
typedef int (*prop_fn)(void *ctx, unsigned id, struct cursor *c);

static void skip_value(unsigned id, struct cursor *c)
{
	size_t n;

	switch (id) {
	case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
		get_u8(c);
		break;
	case 0x13: case 0x21: case 0x22: case 0x23:
		get_u16(c);
		break;
	case 0x02: case 0x11: case 0x18: case 0x27:
		get_u32(c);
		break;
	case 0x0B:
		get_vint(c);
		break;
	case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C:
	case 0x1F:
		get_bin(c, &n);
		break;
	case 0x26:
		get_bin(c, &n);
		get_bin(c, &n);
		break;
	default:
		c->bad = 1;
	}
}

static void read_props(struct cursor *c, prop_fn fn, void *ctx)
{
	size_t len = get_vint(c);
	struct cursor in;

	if (!need(c, len))
		return;
	in = (struct cursor){c->p, c->p + len, 0};
	c->p += len;
	while (!in.bad && in.p < in.end) {
		unsigned id = get_u8(&in);
		if (fn == NULL || !fn(ctx, id, &in))
			skip_value(id, &in);
	}
	c->bad |= in.bad;
}

static int publish_prop(void *ctx, unsigned id, struct cursor *c)
{
	struct mqtt_publish_in *out = ctx;

	if (id != PROP_TOPIC_ALIAS)
		return 0;
	get_u16(c);
	out->has_topic_alias = 1;
	return 1;
}

int mqtt_wire_parse_publish(const struct mqtt_frame *f, struct mqtt_publish_in *out)
{
	struct cursor c = {f->body, f->body + f->body_len, 0};
	size_t n;

	*out = (struct mqtt_publish_in){0};
	out->qos = (f->flags >> 1) & 3;
	out->retain = f->flags & 1;
	out->dup = (f->flags >> 3) & 1;
	if (out->qos == 3)
		return -1;
	out->topic = (const char *)get_bin(&c, &n);
	out->topic_len = n;
	if (out->qos > 0 && (out->id = (uint16_t)get_u16(&c)) == 0)
		return -1;
	read_props(&c, publish_prop, out);
	if (c.bad)
		return -1;
	out->payload = c.p;
	out->payload_len = (size_t)(c.end - c.p);
	return 0;
}

static int connack_prop(void *ctx, unsigned id, struct cursor *c)
{
	struct mqtt_connack *out = ctx;

	switch (id) {
	case PROP_RECEIVE_MAX:
		out->receive_max = (uint16_t)get_u16(c);
		return 1;
	case PROP_MAX_PACKET:
		out->max_packet = get_u32(c);
		return 1;
	case PROP_SERVER_KEEPALIVE:
		out->server_keepalive = (int)get_u16(c);
		return 1;
	case PROP_MAX_QOS:
		out->max_qos = (int)get_u8(c);
		return 1;
	default:
		return 0;
	}
}

int mqtt_wire_parse_connack(const struct mqtt_frame *f, struct mqtt_connack *out)
{
	struct cursor c = {f->body, f->body + f->body_len, 0};

	*out = (struct mqtt_connack){.receive_max = 65535, .server_keepalive = -1, .max_qos = 2};
	out->session_present = get_u8(&c) & 1;
	out->reason = (uint8_t)get_u8(&c);
	if (c.p < c.end)
		read_props(&c, connack_prop, out);
	if (out->receive_max == 0)
		return -1;  /* a protocol error (MQTT 5.0 §3.2.2.3.3) */
	return c.bad ? -1 : 0;
}

int mqtt_wire_parse_ack(const struct mqtt_frame *f, uint16_t *id, uint8_t *reason)
{
	struct cursor c = {f->body, f->body + f->body_len, 0};

	*id = (uint16_t)get_u16(&c);
	*reason = c.p < c.end ? (uint8_t)get_u8(&c) : 0;
	if (c.p < c.end)
		read_props(&c, NULL, NULL);
	return c.bad || *id == 0 ? -1 : 0;
}

int mqtt_wire_parse_suback(const struct mqtt_frame *f, uint16_t *id, const unsigned char **codes,
			   size_t *n)
{
	struct cursor c = {f->body, f->body + f->body_len, 0};

	*id = (uint16_t)get_u16(&c);
	read_props(&c, NULL, NULL);
	if (c.bad || *id == 0)
		return -1;
	*codes = c.p;
	*n = (size_t)(c.end - c.p);
	return 0;
}

int mqtt_wire_parse_disconnect(const struct mqtt_frame *f, uint8_t *reason)
{
	struct cursor c = {f->body, f->body + f->body_len, 0};

	*reason = c.p < c.end ? (uint8_t)get_u8(&c) : 0;
	if (c.p < c.end)
		read_props(&c, NULL, NULL);
	return c.bad ? -1 : 0;
}

const char *mqtt_reason_string(uint8_t code)
{
	static const struct {
		uint8_t code;
		const char *text;
	} names[] = {
		{0x00, "Success"}, {0x01, "Granted QoS 1"}, {0x02, "Granted QoS 2"},
		{0x04, "Disconnect with Will Message"}, {0x10, "No matching subscribers"},
		{0x11, "No subscription existed"}, {0x80, "Unspecified error"},
		{0x81, "Malformed Packet"}, {0x82, "Protocol Error"},
		{0x83, "Implementation specific error"}, {0x84, "Unsupported Protocol Version"},
		{0x85, "Client Identifier not valid"}, {0x86, "Bad User Name or Password"},
		{0x87, "Not authorized"}, {0x88, "Server unavailable"}, {0x89, "Server busy"},
		{0x8A, "Banned"}, {0x8B, "Server shutting down"},
		{0x8C, "Bad authentication method"}, {0x8D, "Keep Alive timeout"},
		{0x8E, "Session taken over"}, {0x8F, "Topic Filter invalid"},
		{0x90, "Topic Name invalid"}, {0x91, "Packet Identifier in use"},
		{0x92, "Packet Identifier not found"}, {0x93, "Receive Maximum exceeded"},
		{0x94, "Topic Alias invalid"}, {0x95, "Packet too large"},
		{0x96, "Message rate too high"}, {0x97, "Quota exceeded"},
		{0x98, "Administrative action"}, {0x99, "Payload format invalid"},
		{0x9A, "Retain not supported"}, {0x9B, "QoS not supported"},
		{0x9C, "Use another server"}, {0x9D, "Server moved"},
		{0x9E, "Shared Subscriptions not supported"}, {0x9F, "Connection rate exceeded"},
		{0xA0, "Maximum connect time"}, {0xA1, "Subscription Identifiers not supported"},
		{0xA2, "Wildcard Subscriptions not supported"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].text;
	return "unknown reason code";
}
