/*
 * Situations in PostgreSQL (tables alerts and alert_events, created by common/ddl.c).
 * Every change is one transaction: the situation's row and its history event together,
 * committed before any MQTT message about it goes out, so that after a crash the row says
 * what staff must see (and unpublished says what may not have been sent yet).
 * Not thread-safe: one store per thread (the daemon serialises its callers).
 */
#ifndef CITYLINK_ALERTS_SITSTORE_H
#define CITYLINK_ALERTS_SITSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/situation.h"
#include "normalizer/schema.h"

struct sitstore;

/* Connects. The store (caller frees with sitstore_close) or NULL with err. */
struct sitstore *sitstore_open(const char *conninfo, char *err, size_t errlen);
void sitstore_close(struct sitstore *st);
/* 1 when the connection is gone; sitstore_reconnect then tries once (0 ok, -1 err). */
int sitstore_is_down(struct sitstore *st);
int sitstore_reconnect(struct sitstore *st, char *err, size_t errlen);

/* The rule set whose pending `for:` rows (alert_pending) this store reads and writes;
 * copied. Until set, "". */
void sitstore_set_ruleset(struct sitstore *st, const char *ruleset);

/* Creates or migrates every table of s, the alerts tables included. 0, or -1 with err. */
int sitstore_migrate(struct sitstore *st, const struct norm_schema *s, char *err, size_t errlen);

/* Loads every situation that is open or not yet published into a new array (caller frees
 * each with sit_clear, then the array with free()). 0, or -1 with err. */
int sitstore_load(struct sitstore *st, struct situation **out, size_t *n, char *err,
		  size_t errlen);

/* The same for the situations whose last change is still unpublished older_s seconds
 * after it was committed (its messages were refused). */
int sitstore_load_unsent(struct sitstore *st, int older_s, struct situation **out, size_t *n,
			 char *err, size_t errlen);

/* Calls fn for each row of devices (standard, device, last_seen ms); stops at a non-zero
 * return of fn and returns it. 0, or -1 with err. */
int sitstore_each_seen(struct sitstore *st,
		       int (*fn)(void *ctx, const char *standard, const char *device,
				 int64_t last_seen_ms),
		       void *ctx, char *err, size_t errlen);

enum { SITSTORE_RAISED = 0, SITSTORE_ALREADY_OPEN = 1, SITSTORE_SUPPRESSED = 2 };

/*
 * A raise of s->rule_id on s->device at s->raised_at. In one transaction: the pending
 * `for:` row of (rule, device) goes, whatever follows; when a situation
 * is open for them, nothing (SITSTORE_ALREADY_OPEN, s->id set to it); when the last raise
 * was less than reraise_ms ago, a "suppressed" event (SITSTORE_SUPPRESSED); otherwise the
 * next episode's row and a "raised" event (SITSTORE_RAISED; s->id, episode, version set).
 * -1 with err on a database error (nothing stored).
 */
int sitstore_raise(struct sitstore *st, struct situation *s, int64_t reraise_ms, char *err,
		   size_t errlen);

/*
 * Writes s's row as it is now (marked unpublished) and one event (kind; by, note and
 * detail, a JSON object, may be NULL) in one transaction. 0, or -1 with err (nothing
 * stored).
 */
int sitstore_save(struct sitstore *st, const struct situation *s, const char *kind,
		  const char *by, const char *note, const char *detail, char *err, size_t errlen);

/* Marks version of id as sent to MQTT. 0, or -1 with err. */
int sitstore_published(struct sitstore *st, const char *id, int version, char *err,
		       size_t errlen);

/* Records a history event that changes no row (a refused ack, a manual notice: id NULL).
 * 0, or -1 with err. */
int sitstore_event(struct sitstore *st, const char *id, const char *kind, const char *by,
		   const char *note, const char *detail, char *err, size_t errlen);

/* Pending `for:` timers, one row per (rule, device) of the rule set while one counts:
 * written when it starts (with record_json, the std/ record that started it, or NULL),
 * removed when it is cancelled (or, by sitstore_raise, raised). Each is one statement.
 * 0, or -1 with err. */
int sitstore_pending_set(struct sitstore *st, const char *rule, const char *device,
			 int64_t since_ms, const char *record_json, char *err, size_t errlen);
int sitstore_pending_delete(struct sitstore *st, const char *rule, const char *device,
			    char *err, size_t errlen);

/* One stored pending row; the strings are valid during the callback only. */
struct sitstore_pending {
	const char *rule, *device;
	int64_t since_ms;
	const char *record_json;            /* NULL when none was stored */
};

/* Calls fn for each pending row of the rule set, oldest first; stops at a non-zero return
 * of fn and returns it. fn may run statements of its own on st. 0, or -1 with err. */
int sitstore_each_pending(struct sitstore *st,
			  int (*fn)(void *ctx, const struct sitstore_pending *p), void *ctx,
			  char *err, size_t errlen);

#endif
