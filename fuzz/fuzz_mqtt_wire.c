/*
 * libFuzzer target: bytes as a broker might send them, cut into packets by
 * mqtt_wire_frame and each handed to the decoder of its type, as the client's I/O
 * thread does. Any read past a packet, crash or leak is a finding.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/mqtt_wire.h"

static void decode(const struct mqtt_frame *f)
{
	struct mqtt_publish_in p;
	struct mqtt_connack a;
	const unsigned char *codes;
	size_t n;
	uint16_t id;
	uint8_t reason;
	volatile unsigned sink = 0;

	switch (f->type) {
	case MQTT_PUBLISH:
		if (mqtt_wire_parse_publish(f, &p) == 0) {
			for (size_t i = 0; i < p.topic_len; i++)
				sink += (unsigned char)p.topic[i];
			for (size_t i = 0; i < p.payload_len; i++)
				sink += p.payload[i];
		}
		break;
	case MQTT_CONNACK:
		mqtt_wire_parse_connack(f, &a);
		break;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		if (mqtt_wire_parse_suback(f, &id, &codes, &n) == 0)
			for (size_t i = 0; i < n; i++)
				sink += codes[i];
		break;
	case MQTT_DISCONNECT:
		mqtt_wire_parse_disconnect(f, &reason);
		break;
	default:
		mqtt_wire_parse_ack(f, &id, &reason);
	}
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mqtt_frame f;
	size_t at = 0;

	while (mqtt_wire_frame(data + at, size - at, 1u << 20, &f) == 1) {
		decode(&f);
		at += f.total;
	}
	return 0;
}
