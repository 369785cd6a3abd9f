/*
 * The rule engine: the rules of a loaded schema set, evaluated over the normalized
 * stream, turned into "raise" and "clear" events per (rule, device). It is pure: no I/O,
 * no clock of its own (every call takes now_ms, the caller's wall clock), no globals,
 * and it returns ENGINE_ENOMEM instead of aborting. The situation lifecycle that follows
 * a raise (ack, escalation, reminders, deadlines, re-raise interval, persistence) is the
 * daemon's; the engine only knows whether each condition is active.
 *
 * Semantics for rule authors are in docs/rules.md; in short:
 *  - `when` is evaluated on each record of the rule's standard (after the device filter).
 *    A comparison with a missing operand (a field the record lacks, delta/rate without
 *    history, division by zero) is unknown; unknown never raises, never cancels a pending
 *    `for:` and never clears; `not unknown` is unknown (three-valued logic).
 *  - `for: D` holds from the first record where `when` is true; a record where it is
 *    false cancels; the raise fires from engine_record or engine_tick once now_ms reaches
 *    start + D, even if no further record arrives.
 *  - `clear` (default `not when`) is evaluated only while active.
 *  - `silent: D` raises when no record of the rule's standard came from a device for D
 *    (wall clock, time of arrival); the next record from the device clears it.
 *
 * Not thread-safe: one engine per thread (the schema it borrows may be shared).
 */
#ifndef CITYLINK_ENGINE_H
#define CITYLINK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/std_record.h"
#include "normalizer/model.h"
#include "normalizer/normalize.h"
#include "normalizer/schema.h"

enum { ENGINE_OK = 0, ENGINE_EINVAL = -1, ENGINE_ENOMEM = -2 };

/* "out of memory", "invalid argument", ... for an ENGINE_* code. */
const char *engine_strerror(int code);

struct engine;

/* An engine over the rules of s. s is borrowed and must outlive the engine.
 * NULL on out of memory. Free with engine_free (NULL ok). */
struct engine *engine_create(const struct norm_schema *s);
void engine_free(struct engine *e);

/* RAISE and CLEAR always; PENDING and CANCEL only after engine_report_pending(e, 1). */
enum engine_event_kind { ENGINE_RAISE, ENGINE_CLEAR, ENGINE_PENDING, ENGINE_CANCEL };

/*
 * One change of a condition. Pointers are owned by the engine: rule lives as long as the
 * schema; device, source and values stay valid until the next call that changes the
 * engine (engine_record, engine_tick, engine_restore_*, engine_adopt_state, engine_free).
 */
struct engine_event {
	enum engine_event_kind kind;
	const struct norm_rule *rule;
	const char *device;
	const char *source;                 /* source of the device's last record, or NULL */
	int64_t since_ms;                   /* RAISE: when the condition started to hold (a
					       silence: the last record's arrival); PENDING,
					       CANCEL: when the `for:` started counting */
	int64_t at_ms;                      /* RAISE: when it became due (since + for / silent;
					       may be before now_ms when a tick came late);
					       PENDING: when it will be due (since + for);
					       CLEAR, CANCEL: now_ms of the record */
	int64_t time_ms;                    /* record time of the device's last values, or 0 */
	const struct norm_value *values;    /* device's last known value of each field of the
					       rule's standard (merged over its records), or
					       NULL when the device sent nothing yet */
	int has_location;                   /* last known geo field of the device */
	double lat, lon;
};

/* Events appended by the engine; the caller sets n = 0 when it has consumed them and
 * frees ev with free(). */
struct engine_events {
	struct engine_event *ev;
	size_t n, cap;
};

/*
 * Feeds one record that arrived at now_ms: evaluates the rules of r's standard for r's
 * device, updates silence and history, and appends the raises and clears (in rule order)
 * to out. Returns ENGINE_OK or ENGINE_ENOMEM (state is then consistent but the record may
 * be only partly applied).
 */
int engine_record(struct engine *e, const struct std_record *r, int64_t now_ms,
		  struct engine_events *out);

/* Fires the `for:` and `silent:` timers due at now_ms. ENGINE_OK or ENGINE_ENOMEM. */
int engine_tick(struct engine *e, int64_t now_ms, struct engine_events *out);

/* When engine_tick has something to do next: never later than the next timer, possibly
 * earlier (that tick then does nothing). INT64_MAX when nothing is pending. */
int64_t engine_next_due(const struct engine *e);

/*
 * After a restart or a takeover, the daemon restores what PostgreSQL knows:
 * engine_restore_active marks (rule, device) active so it is not raised again (it clears
 * as usual); engine_restore_seen records that device last sent a record of standard at
 * last_seen_ms, so its silence timers resume (a device known only this way counts).
 * Both return ENGINE_OK, ENGINE_EINVAL for an unknown rule id or standard (the rule set
 * changed: the daemon closes that situation), or ENGINE_ENOMEM.
 */
int engine_restore_active(struct engine *e, const char *rule_id, const char *device);
int engine_restore_seen(struct engine *e, const char *standard, const char *device,
			int64_t last_seen_ms);

/*
 * SIGHUP: copies into a fresh engine `to` the state of `from` for rules whose id and
 * standard still exist (active, pending `for:`, silence timers, delta/rate history and
 * last values). A rule whose expression changed keeps its state too: an active situation
 * then clears by the new `clear`. ENGINE_OK or ENGINE_ENOMEM (then free `to`, keep `from`).
 */
int engine_adopt_state(struct engine *to, const struct engine *from);

/*
 * Pending `for:` timers, so that they can outlive the process. With report on (default
 * off), engine_record also appends ENGINE_PENDING when a `for:` starts counting (not
 * raised by that record) and ENGINE_CANCEL when a false `when` stops one; a pending one
 * that becomes due ends with its RAISE, and one dropped by engine_adopt_state (its rule
 * left, or the device filter now excludes the device) with no event (engine_is_pending
 * then says 0).
 */
void engine_report_pending(struct engine *e, int report);

/*
 * After a restart: (rule_id, device) has been counting its `for:` since since_ms, so it
 * raises at since_ms + for from engine_tick without any further record. Nothing changes
 * when it is already active. ENGINE_EINVAL when the rule is unknown, has no `for:`, or
 * its device filter excludes device (the row is stale: drop it); ENGINE_ENOMEM.
 */
int engine_restore_pending(struct engine *e, const char *rule_id, const char *device,
			   int64_t since_ms);

/* 1 if (rule_id, device) has a `for:` counting, else 0 (also for an unknown rule or
 * device): after a reload, a stored pending row the new engine does not hold can go. */
int engine_is_pending(const struct engine *e, const char *rule_id, const char *device);

/* Gives r's device the source, record time and values of r (merged into its last known
 * values) without evaluating any rule or touching its silence timers: after a restart, the
 * values a restored pending `for:` raises with. ENGINE_OK, ENGINE_EINVAL (a standard of
 * another schema) or ENGINE_ENOMEM. */
int engine_restore_values(struct engine *e, const struct std_record *r);

/* Number of (rule, device) conditions currently active (for status counters). */
size_t engine_active_count(const struct engine *e);

/* 1 if (rule_id, device) is active, else 0 (also for an unknown rule or device): after a
 * reload, a situation whose condition the new engine does not hold can be closed. */
int engine_is_active(const struct engine *e, const char *rule_id, const char *device);

#endif
