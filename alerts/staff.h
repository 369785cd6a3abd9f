/*
 * What staff apps receive about a situation, over MQTT (design.md's topics):
 * its current state retained on staff/<group>/alerts/<id> for every group it concerns
 * (an empty retained message once closed), and notices on staff/<group>/notices. Every
 * message is CAP-shaped JSON (cap.h), identifier "<id>.<version>".
 */
#ifndef CITYLINK_ALERTS_STAFF_H
#define CITYLINK_ALERTS_STAFF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/situation.h"
#include "common/mqtt.h"
#include "normalizer/schema.h"

struct staff;

/* A publisher over m (borrowed) signing as sender (copied), counting refused publishes
 * in *publish_failed. Caller frees with staff_free. */
struct staff *staff_create(struct mqtt *m, const char *sender,
			   atomic_uint_least64_t *publish_failed);
void staff_free(struct staff *p);

/* Which notice goes with a change. */
enum staff_notice {
	STAFF_NONE,       /* the retained state only */
	STAFF_CHANGE,     /* Alert on the first version, Update after, Cancel once closed */
	STAFF_REMINDER,   /* an Update: still not acknowledged */
	STAFF_PRE_DEADLINE, /* an Update: the deadline is near */
	STAFF_OVERDUE,    /* an Update: the deadline passed */
};

/*
 * Renders s's messages and queues them (QoS 1): the retained state on every group of
 * s->groups (removed when s is closed), and the notice to notice_groups ("g1,g2"; NULL =
 * s->groups). rule may be NULL (it left the rule set): the message then has no headline
 * template. schema gives the standard to read s->record_json with. Nothing is sent here:
 * the caller may hold a lock that the MQTT I/O thread waits for (see staff_flush).
 */
void staff_publish(struct staff *p, const struct situation *s, const struct norm_rule *rule,
		   const struct norm_schema *schema, enum staff_notice notice,
		   const char *notice_groups, int64_t now_ms);

/*
 * Sends what is queued, in order. Call without holding any lock the message callback
 * takes: a publish may wait for the broker, and only the callback's thread reads its
 * answers. Any thread may call it; while one sends, the others return at once (it sends
 * theirs too), so the retained state of a situation never goes out of order.
 */
void staff_flush(struct staff *p);

/* Calls fn for each situation version whose messages were all accepted by the client since the
 * last call (to clear its unpublished mark). */
void staff_drain_sent(struct staff *p, void (*fn)(void *ctx, const char *id, int version),
		      void *ctx);

#endif
