/*
 * Reading an acknowledgement a staff app published on staff/ack/<situation-id>:
 *   {"by": "kim.j", "note": "on my way"}                        (note optional)
 *   {"msgType": "Ack", "sender": "kim.j", "references": "S,ID[,SENT] ...", "note": ...}
 * (CAP 1.2's Ack; "by" may stand for "sender"; references, when given, must name the
 * situation). Pure: no I/O.
 */
#ifndef CITYLINK_ALERTS_ACK_H
#define CITYLINK_ALERTS_ACK_H

#include <stddef.h>

#define ACK_BY_MAX 200
#define ACK_NOTE_MAX 2000

struct ack {
	char by[ACK_BY_MAX + 1];
	char note[ACK_NOTE_MAX + 1]; /* "" when none */
};

/*
 * Parses payload[0..len) as an acknowledgement of situation id. 0 and *out, or -1 with
 * the reason in err ("not JSON", "\"by\" must be a non-empty string", "references name
 * other situations than X", ...).
 */
int ack_parse(const char *payload, size_t len, const char *id, struct ack *out, char *err,
	      size_t errlen);

#endif
