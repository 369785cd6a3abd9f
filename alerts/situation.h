/*
 * A situation: one episode of one rule's condition on one device, from raise to close,
 * with its timers. The daemon keeps the open ones in memory as a copy of their row in
 * PostgreSQL's alerts table (sitstore.h), which is the truth after a restart.
 */
#ifndef CITYLINK_ALERTS_SITUATION_H
#define CITYLINK_ALERTS_SITUATION_H

#include <stddef.h>
#include <stdint.h>

enum sit_state { SIT_RAISED, SIT_ACKNOWLEDGED, SIT_ESCALATED, SIT_CLEARED, SIT_CLOSED };

/* Every time is UTC ms since the epoch; 0 means none (a timer that is off). Strings are
 * owned by the situation (sit_clear frees them). */
struct situation {
	char *id;             /* "<rule>.<device>.<episode>": stable and topic-safe */
	char *rule_id, *device, *source, *standard, *severity;
	char *groups;         /* "g1,g2": every group holding its retained state */
	int episode;
	int version;          /* bumped on every change; CAP identifier "<id>.<version>" */
	enum sit_state state;
	int64_t raised_at, acked_at, cleared_at, closed_at;
	int64_t next_escalation_at, next_reminder_at, deadline_at;
	char *acked_by, *ack_note;
	int level;            /* escalation steps taken */
	int pre_deadline_sent, overdue_sent;
	char *record_json;    /* the device's last values as a std/ record, or NULL */
	int unpublished;      /* a change is committed but not yet sent to MQTT */
};

/* "raised", "acknowledged", "escalated", "cleared", "closed". */
const char *sit_state_name(enum sit_state s);
/* 0 and *out, or -1 for an unknown name. */
int sit_state_parse(const char *name, enum sit_state *out);

/* Frees the strings and zeroes s. */
void sit_clear(struct situation *s);

#define SIT_DEVICE_ID_MAX 128

/* Writes "<rule>.<device>.<episode>" into buf with every character of the device id
 * outside [A-Za-z0-9_-] replaced by '_' (MQTT topic levels and CAP identifiers stay
 * clean) and the device id cut at SIT_DEVICE_ID_MAX bytes. Two devices may so get the
 * same id: the store skips episodes already taken. Returns 0, or -1 if it does not fit. */
int sit_make_id(const char *rule_id, const char *device, int episode, char *buf, size_t len);

#endif
