/*
 * MQTT 5 packets to and from bytes (OASIS MQTT 5.0), for the client in mqtt.c and the
 * benchmarks' bare publisher (bench/wire_publish.c): pure code,
 * no I/O, no globals. Only what a client that publishes and subscribes at QoS 0/1 needs.
 * Decoders take bytes from the broker as untrusted: a malformed packet is an error, never
 * a read past the end (fuzz/fuzz_mqtt_wire.c).
 */
#ifndef CITYLINK_MQTT_WIRE_H
#define CITYLINK_MQTT_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum {
	MQTT_CONNECT = 1, MQTT_CONNACK, MQTT_PUBLISH, MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL,
	MQTT_PUBCOMP, MQTT_SUBSCRIBE, MQTT_SUBACK, MQTT_UNSUBSCRIBE, MQTT_UNSUBACK,
	MQTT_PINGREQ, MQTT_PINGRESP, MQTT_DISCONNECT, MQTT_AUTH
};

/* Reason codes the client acts on (MQTT 5.0 §2.4). */
#define MQTT_RC_SUCCESS 0x00
#define MQTT_RC_DISCONNECT_WITH_WILL 0x04
#define MQTT_RC_UNSPECIFIED 0x80
#define MQTT_RC_MALFORMED 0x81
#define MQTT_RC_PROTOCOL_ERROR 0x82
#define MQTT_RC_PACKET_TOO_LARGE 0x95

/* A growable output buffer; the caller owns data (free with mqtt_wbuf_free). */
struct mqtt_wbuf {
	unsigned char *data;
	size_t len, cap;
};
void mqtt_wbuf_reserve(struct mqtt_wbuf *b, size_t more);
void mqtt_wbuf_free(struct mqtt_wbuf *b);

struct mqtt_connect_params {
	const char *client_id;
	const char *username, *password;  /* NULL: none */
	uint16_t keepalive_s;
	int clean_start;
	uint32_t session_expiry_s;
	uint16_t receive_max;              /* 0: not sent (65535) */
	uint32_t max_packet;               /* 0: not sent (no limit) */
	const char *will_topic;            /* NULL: no will */
	const void *will_payload;
	size_t will_len;
	int will_qos, will_retain;
};

/* Each appends one packet to b. -1 when a string is longer than MQTT allows (65535). */
int mqtt_wire_connect(struct mqtt_wbuf *b, const struct mqtt_connect_params *c);
int mqtt_wire_subscribe(struct mqtt_wbuf *b, uint16_t id, const char *filter, int qos);
int mqtt_wire_unsubscribe(struct mqtt_wbuf *b, uint16_t id, const char *filter);
void mqtt_wire_ack(struct mqtt_wbuf *b, int type, uint16_t id);  /* PUBACK, PUBREC, PUBREL, PUBCOMP */
void mqtt_wire_pingreq(struct mqtt_wbuf *b);
void mqtt_wire_disconnect(struct mqtt_wbuf *b, uint8_t reason);

/* A PUBLISH is encoded once by the publisher, whole: its size for out, then the bytes.
 * The packet id (QoS 1) is written later, at *id_off, when the message is sent; a resend
 * sets the DUP bit with mqtt_wire_publish_set_dup. -1 from size when it cannot be sent. */
long mqtt_wire_publish_size(size_t topic_len, size_t payload_len, int qos);
size_t mqtt_wire_publish(unsigned char *out, const char *topic, size_t topic_len,
			 const void *payload, size_t payload_len, int qos, int retain,
			 size_t *id_off);
void mqtt_wire_publish_set_id(unsigned char *packet, size_t id_off, uint16_t id);
void mqtt_wire_publish_set_dup(unsigned char *packet);

/* One whole packet found at the start of a byte stream. */
struct mqtt_frame {
	int type, flags;                /* the fixed header's two nibbles */
	const unsigned char *body;      /* after the fixed header */
	size_t body_len, total;         /* total: header + body */
};
/* 1 when a whole packet is at p (f filled), 0 when more bytes are needed (f->total is
 * then the packet's whole size once its header is in, else 0), -1 when the length field
 * is malformed, -2 when the packet would exceed max bytes. */
int mqtt_wire_frame(const unsigned char *p, size_t len, size_t max, struct mqtt_frame *f);

struct mqtt_publish_in {
	const char *topic;              /* not NUL-terminated, points into the frame */
	size_t topic_len;
	int qos, retain, dup;
	uint16_t id;
	const unsigned char *payload;
	size_t payload_len;
	int has_topic_alias;
};
struct mqtt_connack {
	int session_present;
	uint8_t reason;
	uint16_t receive_max;           /* 65535 when not given */
	uint32_t max_packet;            /* 0 when not given */
	int server_keepalive;           /* -1 when not given */
	int max_qos;                    /* 2 when not given */
};

/* 0, or -1 when the packet is malformed (MQTT 5.0 says: disconnect with 0x81). */
int mqtt_wire_parse_publish(const struct mqtt_frame *f, struct mqtt_publish_in *out);
int mqtt_wire_parse_connack(const struct mqtt_frame *f, struct mqtt_connack *out);
/* PUBACK, PUBREC, PUBREL, PUBCOMP: the id and the reason (0 when omitted). */
int mqtt_wire_parse_ack(const struct mqtt_frame *f, uint16_t *id, uint8_t *reason);
/* SUBACK, UNSUBACK: the id and the reason codes, one per filter (point into the frame). */
int mqtt_wire_parse_suback(const struct mqtt_frame *f, uint16_t *id, const unsigned char **codes,
			   size_t *n);
int mqtt_wire_parse_disconnect(const struct mqtt_frame *f, uint8_t *reason);

/* The specification's name of a reason code ("Not authorized"); "unknown reason code"
 * for one it does not define. Static storage. */
const char *mqtt_reason_string(uint8_t code);

#endif
