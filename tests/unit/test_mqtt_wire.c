/*
 * MQTT 5 packets (common/mqtt_wire.c). The expected bytes are worked out by hand from the
 * OASIS MQTT 5.0 specification (§3.1 CONNECT, §3.3 PUBLISH, §1.5.5 variable byte
 * integers), not produced by the code under test.
 */
#include <stdlib.h>
#include <string.h>

#include "common/mqtt_wire.h"
#include "test.h"

#define ASSERT_BYTES(buf, len, expected)                                                    \
	do {                                                                                \
		ASSERT_INT_EQ((len), sizeof(expected));                                      \
		for (size_t i_ = 0; i_ < sizeof(expected); i_++)                             \
			if ((buf)[i_] != (expected)[i_])                                     \
				TEST_FAIL_AT("byte %zu: 0x%02x, expected 0x%02x", i_,        \
					     (buf)[i_], (expected)[i_]);                     \
	} while (0)

static void connect_login(void)
{
	static const unsigned char want[] = {
		0x10, 0x15, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xC2, 0x00, 0x1E, 0x00,
		0x00, 0x02, 'c', '1', 0x00, 0x01, 'u', 0x00, 0x01, 'p'};
	struct mqtt_connect_params c = {.client_id = "c1", .username = "u", .password = "p",
					.keepalive_s = 30, .clean_start = 1};
	struct mqtt_wbuf b = {0};

	ASSERT_INT_EQ(mqtt_wire_connect(&b, &c), 0);
	ASSERT_BYTES(b.data, b.len, want);
	mqtt_wbuf_free(&b);
}

static void connect_session_and_will(void)
{
	static const unsigned char want[] = {
		0x10, 0x20, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x2C, 0x00, 0x1E,
		0x08, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0x03, 0xE8,
		0x00, 0x02, 'c', '1', 0x00, 0x00, 0x01, 'w', 0x00, 0x03, 'o', 'f', 'f'};
	struct mqtt_connect_params c = {.client_id = "c1", .keepalive_s = 30,
					.session_expiry_s = 3600, .receive_max = 1000,
					.will_topic = "w", .will_payload = "off", .will_len = 3,
					.will_qos = 1, .will_retain = 1};
	struct mqtt_wbuf b = {0};

	ASSERT_INT_EQ(mqtt_wire_connect(&b, &c), 0);
	ASSERT_BYTES(b.data, b.len, want);
	mqtt_wbuf_free(&b);
}

static void publish_bytes(void)
{
	static const unsigned char want[] = {0x32, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x00,
					     0x00, 'h', 'i'};
	static const unsigned char sent[] = {0x3A, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34,
					     0x00, 'h', 'i'};
	unsigned char out[64];
	size_t id_off, n;

	ASSERT_INT_EQ(mqtt_wire_publish_size(3, 2, 1), sizeof(want));
	n = mqtt_wire_publish(out, "a/b", 3, "hi", 2, 1, 0, &id_off);
	ASSERT_BYTES(out, n, want);
	mqtt_wire_publish_set_id(out, id_off, 0x1234);
	mqtt_wire_publish_set_dup(out);
	ASSERT_BYTES(out, n, sent);
}

/* Remaining lengths at the varint boundaries, round-tripped through frame and parse. */
static void publish_round_trip(void)
{
	static const size_t bodies[] = {127, 128, 16383, 16384, 2097151, 2097152};
	static const unsigned char heads[][4] = {{0x7F}, {0x80, 0x01}, {0xFF, 0x7F},
						 {0x80, 0x80, 0x01}, {0xFF, 0xFF, 0x7F},
						 {0x80, 0x80, 0x80, 0x01}};
	static const size_t head_len[] = {1, 2, 2, 3, 3, 4};

	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		/* QoS 0, topic "t": body = 2 + 1 + 1 (no properties) + payload. */
		size_t plen = bodies[k] - 4, id_off, n;
		char *payload = malloc(plen);
		long size = mqtt_wire_publish_size(1, plen, 0);
		unsigned char *out = malloc((size_t)size);
		struct mqtt_frame f;
		struct mqtt_publish_in p;

		memset(payload, 'x', plen);
		n = mqtt_wire_publish(out, "t", 1, payload, plen, 0, 1, &id_off);
		ASSERT_INT_EQ(n, (size_t)size);
		ASSERT_INT_EQ(n, 1 + head_len[k] + bodies[k]);
		ASSERT(memcmp(out + 1, heads[k], head_len[k]) == 0);
		ASSERT_INT_EQ(mqtt_wire_frame(out, n - 1, n, &f), 0);
		ASSERT_INT_EQ(f.total, n);
		ASSERT_INT_EQ(mqtt_wire_frame(out, n, n, &f), 1);
		ASSERT_INT_EQ(mqtt_wire_frame(out, n, n - 1, &f), -2);
		ASSERT_INT_EQ(mqtt_wire_parse_publish(&f, &p), 0);
		ASSERT_INT_EQ(p.topic_len, 1);
		ASSERT_INT_EQ(p.payload_len, plen);
		ASSERT_INT_EQ(p.retain, 1);
		ASSERT_INT_EQ(p.qos, 0);
		ASSERT(memcmp(p.payload, payload, plen) == 0);
		free(payload);
		free(out);
	}
}

static void frame_limits(void)
{
	static const unsigned char five[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
	static const unsigned char head_only[] = {0x30, 0x80};
	struct mqtt_frame f;

	ASSERT_INT_EQ(mqtt_wire_frame(five, sizeof(five), 1u << 30, &f), -1);
	ASSERT_INT_EQ(mqtt_wire_frame(head_only, sizeof(head_only), 1u << 30, &f), 0);
	ASSERT_INT_EQ(f.total, 0);
	ASSERT_INT_EQ(mqtt_wire_frame(five, 1, 1u << 30, &f), 0);
}

static int frame_of(const unsigned char *p, size_t n, struct mqtt_frame *f)
{
	return mqtt_wire_frame(p, n, n, f);
}

static void connack(void)
{
	/* Session present, success; receive max 1000, server keep-alive 60, a reason string
	 * and a user property (both skipped), maximum packet size 1052672. */
	static const unsigned char ok[] = {
		0x20, 0x1C, 0x01, 0x00, 0x19, 0x21, 0x03, 0xE8, 0x13, 0x00, 0x3C, 0x1F, 0x00,
		0x02, 'o', 'k', 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', 0x27, 0x00, 0x10,
		0x10, 0x00, 0x24, 0x01};
	static const unsigned char refused[] = {0x20, 0x03, 0x00, 0x87, 0x00};
	static const unsigned char zero_rm[] = {0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00};
	static const unsigned char bad_prop[] = {0x20, 0x05, 0x00, 0x00, 0x02, 0x7E, 0x00};
	struct mqtt_frame f;
	struct mqtt_connack a;

	ASSERT_INT_EQ(frame_of(ok, sizeof(ok), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_connack(&f, &a), 0);
	ASSERT_INT_EQ(a.session_present, 1);
	ASSERT_INT_EQ(a.reason, 0);
	ASSERT_INT_EQ(a.receive_max, 1000);
	ASSERT_INT_EQ(a.server_keepalive, 60);
	ASSERT_INT_EQ(a.max_packet, 1052672);
	ASSERT_INT_EQ(a.max_qos, 1);
	ASSERT_INT_EQ(frame_of(refused, sizeof(refused), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_connack(&f, &a), 0);
	ASSERT_INT_EQ(a.reason, 0x87);
	ASSERT_STR_EQ(mqtt_reason_string(a.reason), "Not authorized");
	ASSERT_INT_EQ(a.receive_max, 65535);
	ASSERT_INT_EQ(a.server_keepalive, -1);
	ASSERT_INT_EQ(frame_of(zero_rm, sizeof(zero_rm), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_connack(&f, &a), -1);
	ASSERT_INT_EQ(frame_of(bad_prop, sizeof(bad_prop), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_connack(&f, &a), -1);
	/* Every truncation of the properties is refused, never read past. */
	for (size_t cut = 5; cut < sizeof(ok) - 1; cut++) {
		struct mqtt_frame t = f;
		ASSERT_INT_EQ(frame_of(ok, sizeof(ok), &t), 1);
		t.body_len = cut - 2;
		ASSERT_INT_EQ(mqtt_wire_parse_connack(&t, &a), -1);
	}
}

static void acks(void)
{
	static const unsigned char short_ack[] = {0x40, 0x02, 0x00, 0x07};
	static const unsigned char long_ack[] = {0x40, 0x07, 0x01, 0x00, 0x87, 0x03, 0x1F,
						 0x00, 0x00};
	static const unsigned char zero_id[] = {0x40, 0x02, 0x00, 0x00};
	static const unsigned char suback[] = {0x90, 0x05, 0x00, 0x09, 0x00, 0x01, 0x87};
	struct mqtt_frame f;
	const unsigned char *codes;
	size_t n;
	uint16_t id;
	uint8_t reason;
	struct mqtt_wbuf b = {0};

	ASSERT_INT_EQ(frame_of(short_ack, sizeof(short_ack), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_ack(&f, &id, &reason), 0);
	ASSERT_INT_EQ(id, 7);
	ASSERT_INT_EQ(reason, 0);
	ASSERT_INT_EQ(frame_of(long_ack, sizeof(long_ack), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_ack(&f, &id, &reason), 0);
	ASSERT_INT_EQ(id, 256);
	ASSERT_INT_EQ(reason, 0x87);
	ASSERT_INT_EQ(frame_of(zero_id, sizeof(zero_id), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_ack(&f, &id, &reason), -1);
	ASSERT_INT_EQ(frame_of(suback, sizeof(suback), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_suback(&f, &id, &codes, &n), 0);
	ASSERT_INT_EQ(id, 9);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(codes[0], 1);
	ASSERT_INT_EQ(codes[1], 0x87);
	/* What the client sends back: the two-byte short forms. */
	mqtt_wire_ack(&b, MQTT_PUBACK, 7);
	ASSERT_BYTES(b.data, b.len, short_ack);
	mqtt_wbuf_free(&b);
}

static void subscribe_bytes(void)
{
	static const unsigned char want[] = {0x82, 0x0B, 0x00, 0x05, 0x00, 0x00, 0x05,
					     's', 't', 'd', '/', '#', 0x01};
	static const unsigned char unsub[] = {0xA2, 0x0A, 0x00, 0x06, 0x00, 0x00, 0x05,
					      's', 't', 'd', '/', '#'};
	struct mqtt_wbuf b = {0};

	ASSERT_INT_EQ(mqtt_wire_subscribe(&b, 5, "std/#", 1), 0);
	ASSERT_BYTES(b.data, b.len, want);
	b.len = 0;
	ASSERT_INT_EQ(mqtt_wire_unsubscribe(&b, 6, "std/#"), 0);
	ASSERT_BYTES(b.data, b.len, unsub);
	mqtt_wbuf_free(&b);
}

static void publish_malformed(void)
{
	static const unsigned char qos3[] = {0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01};
	static const unsigned char id0[] = {0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x00, 0x00};
	static const unsigned char long_topic[] = {0x30, 0x04, 0x00, 0x09, 't', 0x00};
	static const unsigned char no_props[] = {0x30, 0x03, 0x00, 0x01, 't'};
	static const unsigned char alias[] = {0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01};
	const unsigned char *bad[] = {qos3, id0, long_topic, no_props};
	size_t lens[] = {sizeof(qos3), sizeof(id0), sizeof(long_topic), sizeof(no_props)};
	struct mqtt_frame f;
	struct mqtt_publish_in p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_INT_EQ(frame_of(bad[i], lens[i], &f), 1);
		ASSERT_INT_EQ(mqtt_wire_parse_publish(&f, &p), -1);
	}
	ASSERT_INT_EQ(frame_of(alias, sizeof(alias), &f), 1);
	ASSERT_INT_EQ(mqtt_wire_parse_publish(&f, &p), 0);
	ASSERT_INT_EQ(p.has_topic_alias, 1);
}

static void too_long(void)
{
	char *s = malloc(70000);
	struct mqtt_wbuf b = {0};
	struct mqtt_connect_params c = {.client_id = s};

	memset(s, 'a', 69999);
	s[69999] = '\0';
	ASSERT_INT_EQ(mqtt_wire_subscribe(&b, 1, s, 1), -1);
	ASSERT_INT_EQ(mqtt_wire_connect(&b, &c), -1);
	ASSERT_INT_EQ(mqtt_wire_publish_size(70000, 1, 1), -1);
	ASSERT_INT_EQ(mqtt_wire_publish_size(1, 300000000, 1), -1);
	ASSERT_INT_EQ(b.len, 0);
	free(s);
	mqtt_wbuf_free(&b);
}

static const struct test_case cases[] = {
	{"connect_login", connect_login},
	{"connect_session_and_will", connect_session_and_will},
	{"publish_bytes", publish_bytes},
	{"publish_round_trip", publish_round_trip},
	{"frame_limits", frame_limits},
	{"connack", connack},
	{"acks", acks},
	{"subscribe_bytes", subscribe_bytes},
	{"publish_malformed", publish_malformed},
	{"too_long", too_long},
	{NULL, NULL},
};

TEST_MAIN(cases)
