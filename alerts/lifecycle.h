/*
 * The situation lifecycle: raise (or suppress) on the engine's RAISE, close on CLEAR,
 * acknowledgements from staff, and the clock-driven steps (escalation ladder, reminders
 * until acknowledged, pre-deadline and overdue notices). Each change is committed to
 * PostgreSQL (sitstore.h) before its MQTT messages are queued (staff.h), and the caller
 * sends them with staff_flush after releasing its lock.
 *
 * Every call returning int gives 0, or -1 when the database failed mid-change: the
 * in-memory state may then be ahead of PostgreSQL, and the caller must not go on (the
 * daemon exits and rebuilds from PostgreSQL at restart). Not thread-safe.
 */
#ifndef CITYLINK_ALERTS_LIFECYCLE_H
#define CITYLINK_ALERTS_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/counters.h"
#include "alerts/engine.h"
#include "alerts/sitstore.h"
#include "alerts/staff.h"

struct life;

/* All borrowed; they must outlive the lifecycle. Caller frees with life_free. */
struct life *life_create(struct sitstore *st, struct staff *staff, struct alerts_counters *k);
void life_free(struct life *l);

/* The rule set to read rules from (borrowed; call again after a reload). Situations whose
 * rule left the set are closed at the next life_tick. */
void life_set_schema(struct life *l, const struct norm_schema *s);

/* After taking over: loads the open situations, marks them active in e, restores every
 * device's last record time and the pending `for:` timers (dropping rows the rule set no
 * longer explains), and publishes every situation's current state again (and
 * any change a crash kept from being sent). */
int life_restore(struct life *l, struct engine *e, int64_t now_ms);

/* After a reload into e: the rule set's pending `for:` rows that e does not hold (their
 * rule left the set, lost its for:, or its filter now excludes the device) are deleted. */
int life_sync_pending(struct life *l, const struct engine *e);

/* Applies one engine event (a pending `for:` starting or cancelled is stored, a raise or a
 * clear changes a situation). */
int life_event(struct life *l, const struct engine_event *ev, int64_t now_ms);

/* An acknowledgement for situation id (payload as received on staff/ack/<id>). A refused
 * one is logged with its reason and counted; only a database failure returns -1. */
int life_ack(struct life *l, const char *id, const char *payload, size_t len, int64_t now_ms);

/* Runs every timer due at now_ms. */
int life_tick(struct life *l, int64_t now_ms);

/* Queues again every change whose messages were refused (still unpublished some time
 * after its commit). */
int life_resend(struct life *l, int64_t now_ms);

/* Clears the unpublished mark of every change staff_flush has sent. */
void life_mark_sent(struct life *l);

/* The earliest time a timer is due; INT64_MAX when none is. */
int64_t life_next_due(const struct life *l);

#endif
