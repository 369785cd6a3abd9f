/* Staff messages (see staff.h). */
#include "alerts/staff.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/cap.h"
#include "alerts/std_record.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* One message waiting to be sent; the last of a change names the situation version. */
struct outmsg {
	char *topic, *payload;
	size_t len;
	int retain;
	char *sit_id;  /* set on the last message of a change */
	int version;
	struct outmsg *next;
};

struct sent {
	char *id;
	int version;
	struct sent *next;
};

struct staff {
	struct mqtt *mqtt;
	char *sender;
	struct std_parser *parser;
	atomic_uint_least64_t *publish_failed;
	pthread_mutex_t mu;          /* guards the queue, flushing and the sent list */
	struct outmsg *head, **tail;
	int flushing, change_failed;
	struct sent *sent;
};

struct staff *staff_create(struct mqtt *m, const char *sender,
			   atomic_uint_least64_t *publish_failed)
{
	struct staff *p = xcalloc(1, sizeof(*p));

	p->mqtt = m;
	p->sender = xstrdup(sender);
	p->publish_failed = publish_failed;
	p->tail = &p->head;
	pthread_mutex_init(&p->mu, NULL);
	if ((p->parser = std_parser_create()) == NULL)
		fatalx("out of memory");
	return p;
}

static void outmsg_free(struct outmsg *o)
{
	free(o->topic);
	free(o->payload);
	free(o->sit_id);
	free(o);
}

void staff_free(struct staff *p)
{
	if (p == NULL)
		return;
	for (struct outmsg *o = p->head, *next; o != NULL; o = next) {
		next = o->next;
		outmsg_free(o);
	}
	for (struct sent *t = p->sent, *next; t != NULL; t = next) {
		next = t->next;
		free(t->id);
		free(t);
	}
	pthread_mutex_destroy(&p->mu);
	std_parser_free(p->parser);
	free(p->sender);
	free(p);
}

/* The device's values, read back from the stored std/ record; NULL if there are none or
 * the standard changed since. */
static const struct norm_value *values_of(struct staff *p, const struct situation *s,
					  const struct norm_schema *schema,
					  const struct norm_standard **st, int64_t *time_ms)
{
	struct std_record r;
	char err[256];

	if (s->record_json == NULL ||
	    std_record_parse(p->parser, schema, s->record_json, strlen(s->record_json), &r, err,
			     sizeof(err)) != STD_OK) {
		*st = norm_schema_standard(schema, s->standard);
		return NULL;
	}
	*st = r.standard;
	*time_ms = r.time_ms;
	return r.values;
}

static void locate(struct cap_message *m)
{
	for (size_t i = 0; m->values != NULL && i < m->standard->n_fields; i++)
		if (m->standard->fields[i].type == NORM_GEO && m->values[i].present) {
			m->has_location = 1;
			m->lat = m->values[i].lat;
			m->lon = m->values[i].lon;
			return;
		}
}

static const char *notice_text(enum staff_notice n)
{
	switch (n) {
	case STAFF_REMINDER:
		return "Reminder: this situation is not acknowledged yet.";
	case STAFF_PRE_DEADLINE:
		return "The deadline for handling this situation is near.";
	case STAFF_OVERDUE:
		return "Overdue: the deadline for handling this situation has passed.";
	default:
		return NULL;
	}
}

static int render(struct staff *p, const struct situation *s, const struct norm_rule *rule,
		  const struct norm_schema *schema, enum staff_notice notice, int64_t now_ms,
		  struct norm_buf *out)
{
	char ident[600], refs[1200];
	struct cap_message m = {0};

	snprintf(ident, sizeof(ident), "%s.%d", s->id, s->version);
	snprintf(refs, sizeof(refs), "%s,%s.%d", p->sender, s->id, s->version - 1);
	m.identifier = ident;
	m.sender = p->sender;
	m.sent_ms = now_ms;
	m.msg_type = s->state == SIT_CLOSED ? CAP_CANCEL : s->version == 1 ? CAP_ALERT : CAP_UPDATE;
	m.references = s->version > 1 ? refs : NULL;
	m.rule = rule;
	m.event = s->rule_id;
	m.description = notice_text(notice);
	m.device = s->device;
	m.source = s->source;
	m.values = values_of(p, s, schema, &m.standard, &m.time_ms);
	locate(&m);
	m.state = sit_state_name(s->state);
	m.acked_by = s->acked_by;
	m.acked_at_ms = s->acked_at;
	m.escalation_level = s->level;
	if (rule == NULL)
		m.headline = s->id;
	return cap_render(&m, out) == CAP_OK ? 0 : -1;
}

/* Queues payload for staff/<group>/<suffix>, each group of the list "g1,g2"; caller
 * holds mu. Returns the last message queued (NULL if none). */
static struct outmsg *queue_groups(struct staff *p, const char *groups, const char *suffix,
				   const char *payload, size_t len, int retain)
{
	struct outmsg *last = NULL;
	char topic[768];

	for (const char *g = groups; g != NULL && *g != '\0';) {
		const char *comma = strchr(g, ',');
		int n = (int)(comma != NULL ? (size_t)(comma - g) : strlen(g));
		struct outmsg *o = xcalloc(1, sizeof(*o));
		snprintf(topic, sizeof(topic), "staff/%.*s/%s", n, g, suffix);
		o->topic = xstrdup(topic);
		o->payload = xmalloc(len + 1);
		memcpy(o->payload, payload, len);
		o->len = len;
		o->retain = retain;
		*p->tail = o;
		p->tail = &o->next;
		last = o;
		g = comma != NULL ? comma + 1 : NULL;
	}
	return last;
}

void staff_publish(struct staff *p, const struct situation *s, const struct norm_rule *rule,
		   const struct norm_schema *schema, enum staff_notice notice,
		   const char *notice_groups, int64_t now_ms)
{
	struct norm_buf state = {0}, note = {0};
	struct outmsg *last, *n = NULL;
	char suffix[600];

	snprintf(suffix, sizeof(suffix), "alerts/%s", s->id);
	if (render(p, s, rule, schema, STAFF_NONE, now_ms, &state) != 0 ||
	    (notice != STAFF_NONE && render(p, s, rule, schema, notice, now_ms, &note) != 0))
		fatalx("out of memory rendering situation %s", s->id);
	pthread_mutex_lock(&p->mu);
	if (s->state == SIT_CLOSED)
		last = queue_groups(p, s->groups, suffix, "", 0, 1);
	else
		last = queue_groups(p, s->groups, suffix, state.data, state.len, 1);
	if (notice != STAFF_NONE)
		n = queue_groups(p, notice_groups != NULL ? notice_groups : s->groups, "notices",
				 note.data, note.len, 0);
	if (n != NULL)
		last = n;
	if (last != NULL) {
		last->sit_id = xstrdup(s->id);
		last->version = s->version;
	}
	pthread_mutex_unlock(&p->mu);
	norm_buf_free(&state);
	norm_buf_free(&note);
}

/* Caller holds mu. A change counts as sent when none of its messages was refused. */
static void note_sent(struct staff *p, const struct outmsg *o, int ok)
{
	struct sent *t;

	p->change_failed |= !ok;
	if (o->sit_id == NULL)
		return;
	if (!p->change_failed) {
		t = xcalloc(1, sizeof(*t));
		t->id = xstrdup(o->sit_id);
		t->version = o->version;
		t->next = p->sent;
		p->sent = t;
	}
	p->change_failed = 0;
}

void staff_flush(struct staff *p)
{
	char err[512];

	pthread_mutex_lock(&p->mu);
	if (p->flushing) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	p->flushing = 1;
	while (p->head != NULL) {
		struct outmsg *o = p->head;
		int ok;
		p->head = o->next;
		if (p->head == NULL)
			p->tail = &p->head;
		pthread_mutex_unlock(&p->mu);
		ok = mqtt_publish(p->mqtt, o->topic, o->payload, o->len, 1, o->retain, 5000, err,
				  sizeof(err)) == 0;
		if (!ok) {
			atomic_fetch_add(p->publish_failed, 1);
			log_warnx("event=publish_failed topic=%s error=\"%s\"", o->topic, err);
		}
		pthread_mutex_lock(&p->mu);
		note_sent(p, o, ok);
		outmsg_free(o);
	}
	p->flushing = 0;
	pthread_mutex_unlock(&p->mu);
}

void staff_drain_sent(struct staff *p, void (*fn)(void *ctx, const char *id, int version),
		      void *ctx)
{
	struct sent *list;

	pthread_mutex_lock(&p->mu);
	list = p->sent;
	p->sent = NULL;
	pthread_mutex_unlock(&p->mu);
	while (list != NULL) {
		struct sent *next = list->next;
		fn(ctx, list->id, list->version);
		free(list->id);
		free(list);
		list = next;
	}
}
