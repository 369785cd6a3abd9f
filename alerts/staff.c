/* Staff messages (see staff.h). */
#include "alerts/staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/cap.h"
#include "alerts/std_record.h"
#include "common/log.h"
#include "common/xmalloc.h"

struct staff {
	struct mqtt *mqtt;
	char *sender;
	struct std_parser *parser;
};

struct staff *staff_create(struct mqtt *m, const char *sender)
{
	struct staff *p = xcalloc(1, sizeof(*p));

	p->mqtt = m;
	p->sender = xstrdup(sender);
	if ((p->parser = std_parser_create()) == NULL)
		fatalx("out of memory");
	return p;
}

void staff_free(struct staff *p)
{
	if (p == NULL)
		return;
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

/* Publishes payload to staff/<group>/<suffix> for each group of the list "g1,g2". */
static int each_group(struct staff *p, const char *groups, const char *suffix,
		      const char *payload, size_t len, int retain, char *err, size_t errlen)
{
	char topic[768], one[256];
	int rc = 0;

	for (const char *g = groups; g != NULL && *g != '\0';) {
		const char *comma = strchr(g, ',');
		size_t n = comma != NULL ? (size_t)(comma - g) : strlen(g);
		snprintf(one, sizeof(one), "%.*s", (int)n, g);
		snprintf(topic, sizeof(topic), "staff/%s/%s", one, suffix);
		if (mqtt_publish(p->mqtt, topic, payload, len, 1, retain, 5000, err, errlen) != 0)
			rc = -1;
		g = comma != NULL ? comma + 1 : NULL;
	}
	return rc;
}

int staff_publish(struct staff *p, const struct situation *s, const struct norm_rule *rule,
		  const struct norm_schema *schema, enum staff_notice notice,
		  const char *notice_groups, int64_t now_ms, char *err, size_t errlen)
{
	struct norm_buf state = {0}, note = {0};
	char suffix[600];
	int rc = 0;

	snprintf(suffix, sizeof(suffix), "alerts/%s", s->id);
	if (render(p, s, rule, schema, STAFF_NONE, now_ms, &state) != 0 ||
	    (notice != STAFF_NONE && render(p, s, rule, schema, notice, now_ms, &note) != 0))
		fatalx("out of memory rendering situation %s", s->id);
	if (s->state == SIT_CLOSED)
		rc |= each_group(p, s->groups, suffix, "", 0, 1, err, errlen);
	else
		rc |= each_group(p, s->groups, suffix, state.data, state.len, 1, err, errlen);
	if (notice != STAFF_NONE)
		rc |= each_group(p, notice_groups != NULL ? notice_groups : s->groups, "notices",
				 note.data, note.len, 0, err, errlen);
	norm_buf_free(&state);
	norm_buf_free(&note);
	return rc;
}
