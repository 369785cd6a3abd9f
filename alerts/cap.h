/*
 * Staff messages in the shape of OASIS CAP 1.2, as JSON, and the headline templates of
 * rules. Pure: the caller gives every text and time; nothing here reads a clock.
 *
 * The JSON (one object, no newline):
 *   {"identifier":..,"sender":..,"sent":"2026-11-21T09:10:00.123Z","status":"Actual",
 *    "msgType":"Alert"|"Update"|"Cancel","scope":"Restricted","references":..|null,
 *    "info":[{"language":"ko","category":["Env"],"event":"pm25-high","urgency":..,
 *             "severity":"Severe","certainty":"Observed","headline":..,"description":..,
 *             "instruction":..,"area":{"areaDesc":..,"circle":"37.56,126.97 0"}}, ...],
 *    "device":..,"standard":..,"values":{..},"state":"raised",
 *    "acked_by":..|null,"acked_at":..|null,"escalation_level":0}
 * One info block per headline language of the rule (a rule without languages, or a
 * manual notice, gives one block without "language"). Strings are escaped for JSON;
 * invalid UTF-8 in a caller's text is replaced by U+FFFD so the output is always valid JSON.
 */
#ifndef CITYLINK_CAP_H
#define CITYLINK_CAP_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/model.h"
#include "normalizer/normalize.h"

enum cap_msg_type { CAP_ALERT, CAP_UPDATE, CAP_CANCEL };

/*
 * Everything one message says. All pointers are borrowed for the call; any text may be
 * NULL where noted ("null" in the JSON, or the field left out for info texts).
 */
struct cap_message {
	const char *identifier;              /* required: the situation id (+ a version) */
	const char *sender;                  /* required: e.g. "citylink-alerts@<client-id>" */
	const char *status;                  /* NULL = "Actual" */
	int64_t sent_ms;
	enum cap_msg_type msg_type;
	const char *references;              /* previous identifier, or NULL */
	const struct norm_rule *rule;        /* NULL for a manual notice */
	enum norm_severity severity;         /* used when rule == NULL */
	const char *headline;                /* manual notice headline; with a rule, NULL =
						the rule's templates (else this overrides) */
	const char *description, *instruction; /* NULL = the rule's */
	const char *event;                   /* NULL = rule id, or "notice" without a rule */
	const char *device;                  /* NULL for a notice not about a device */
	const char *source;                  /* for the {source} placeholder, may be NULL */
	const struct norm_standard *standard; /* NULL = rule's standard (or none) */
	const struct norm_value *values;     /* one per field of standard, or NULL */
	int64_t time_ms;                     /* time of the values ({time}), 0 = unknown */
	int has_location;
	double lat, lon;
	const char *area_desc;               /* NULL = the device id (or "citylink") */
	const char *state;                   /* raised | acknowledged | escalated | cleared |
						closed; NULL = "raised" */
	const char *acked_by;                /* NULL = not acknowledged */
	int64_t acked_at_ms;                 /* used when acked_by != NULL */
	int escalation_level;                /* 0 = not escalated, 1 = first ladder step ... */
};

enum { CAP_OK = 0, CAP_EINVAL = -1, CAP_ENOMEM = -2 };

/* Appends m as CAP-shaped JSON to out. CAP_OK, CAP_EINVAL (identifier or sender NULL)
 * or CAP_ENOMEM (out then holds a partial object: reset its len). */
int cap_render(const struct cap_message *m, struct norm_buf *out);

/*
 * Appends the headline template tmpl with its placeholders filled from m:
 * {field} the field's value in the standard's units (numbers as in the std/ stream, e.g.
 * 17.9, 80, true, ok; a geo "37.56,126.97"; "?" when m has no value for it),
 * {device}, {source}, {standard}, {rule}, {severity}, {time} (RFC 3339 UTC), and
 * {location} ("lat,lon" or "unknown location"). The loader refused unknown placeholders;
 * one that still slips through is copied as written. CAP_OK or CAP_ENOMEM.
 */
int headline_render(const char *tmpl, const struct cap_message *m, struct norm_buf *out);

/* CAP's names: "Extreme", "Severe", "Moderate", "Minor"; and a category
 * ("Env", "Met", "Safety", "Transport", "Infra", "Fire", "Other") for a standard id. */
const char *cap_severity_name(enum norm_severity s);
const char *cap_category(const struct norm_standard *st);

#endif
