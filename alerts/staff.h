/*
 * What staff apps receive about a situation, over MQTT (design.md's topics):
 * its current state retained on staff/<group>/alerts/<id> for every group it concerns
 * (an empty retained message once closed), and notices on staff/<group>/notices. Every
 * message is CAP-shaped JSON (cap.h), identifier "<id>.<version>".
 */
#ifndef CITYLINK_ALERTS_STAFF_H
#define CITYLINK_ALERTS_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/situation.h"
#include "common/mqtt.h"
#include "normalizer/schema.h"

struct staff;

/* A publisher over m (borrowed) signing as sender (copied). Caller frees with staff_free. */
struct staff *staff_create(struct mqtt *m, const char *sender);
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
 * Publishes s (QoS 1): the retained state on every group of s->groups (removed when s is
 * closed), and the notice to notice_groups ("g1,g2"; NULL = s->groups). rule may be NULL
 * (it left the rule set): the message then has no headline template. schema gives the
 * standard to read s->record_json with. 0, or -1 with err when a publish was refused
 * (the others are still attempted).
 */
int staff_publish(struct staff *p, const struct situation *s, const struct norm_rule *rule,
		  const struct norm_schema *schema, enum staff_notice notice,
		  const char *notice_groups, int64_t now_ms, char *err, size_t errlen);

#endif
