/* CAP 1.2-shaped JSON for staff (cap.h). */
#include <stdio.h>
#include <string.h>

#include "alerts/cap.h"
#include "alerts/cap_json.h"
#include "normalizer/timefmt.h"

const char *cap_severity_name(enum norm_severity s)
{
	switch (s) {
	case NORM_SEV_EXTREME: return "Extreme";
	case NORM_SEV_SEVERE: return "Severe";
	case NORM_SEV_MODERATE: return "Moderate";
	case NORM_SEV_MINOR: return "Minor";
	}
	return "Unknown";
}

/* CAP categories by words of the standard id; first match wins. */
const char *cap_category(const struct norm_standard *st)
{
	static const struct {
		const char *word, *category;
	} map[] = {
		{"fire", "Fire"},        {"smoke", "Fire"},      {"air", "Env"},
		{"noise", "Env"},        {"water", "Env"},       {"river", "Env"},
		{"weather", "Met"},      {"rain", "Met"},        {"wind", "Met"},
		{"security", "Security"}, {"patrol", "Security"}, {"crosswalk", "Safety"},
		{"pedestrian", "Safety"}, {"parking", "Transport"}, {"traffic", "Transport"},
		{"charging", "Transport"}, {"snow", "Infra"},     {"trash", "Infra"},
		{"solar", "Infra"},      {"energy", "Infra"},    {"lorawan", "Infra"},
	};
	for (size_t i = 0; st != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strstr(st->id, map[i].word) != NULL)
			return map[i].category;
	return "Other";
}

static const char *msg_type_name(enum cap_msg_type t)
{
	return t == CAP_UPDATE ? "Update" : t == CAP_CANCEL ? "Cancel" : "Alert";
}

static const struct norm_standard *standard_of(const struct cap_message *m)
{
	return m->standard != NULL ? m->standard : m->rule != NULL ? m->rule->standard : NULL;
}

static enum norm_severity severity_of(const struct cap_message *m)
{
	return m->rule != NULL ? m->rule->severity : m->severity;
}

static int puts_(struct norm_buf *b, const char *s)
{
	return norm_buf_append(b, s, strlen(s));
}

static const char *urgency(const struct cap_message *m)
{
	if (m->state != NULL && (strcmp(m->state, "cleared") == 0 || strcmp(m->state, "closed") == 0))
		return "Past";
	return severity_of(m) <= NORM_SEV_SEVERE ? "Immediate" : "Expected";
}

/* "key":"text" from a template (rule texts) or literally (a caller's override). */
static int templated(struct norm_buf *b, const char *key, const char *literal, const char *tmpl,
		     const struct cap_message *m, struct norm_buf *scratch)
{
	if (literal != NULL)
		return puts_(b, ",") || cap_json_member(b, key, literal);
	if (tmpl == NULL)
		return NORM_OK;
	scratch->len = 0;
	if (headline_render(tmpl, m, scratch) != CAP_OK)
		return NORM_ENOMEM;
	return puts_(b, ",") || cap_json_member(b, key, scratch->data);
}

static int area(struct norm_buf *b, const struct cap_message *m)
{
	const char *desc = m->area_desc ? m->area_desc : m->device ? m->device : "citylink";
	if (puts_(b, ",\"area\":{") || cap_json_member(b, "areaDesc", desc))
		return NORM_ENOMEM;
	if (m->has_location) {
		/* CAP's circle: "lat,lon radius" in WGS 84, radius 0 km for a point */
		struct norm_field geo = {.type = NORM_GEO};
		struct norm_value v = {.present = 1, .lat = m->lat, .lon = m->lon};
		if (puts_(b, ",\"circle\":\"") || norm_value_text(&geo, &v, b) || puts_(b, " 0\""))
			return NORM_ENOMEM;
	}
	return puts_(b, "}");
}

/* One info block; lang is the rule's headline index, or -1 (no language). */
static int info(struct norm_buf *b, const struct cap_message *m, long lang, struct norm_buf *scratch)
{
	const struct norm_rule *r = m->rule;
	const char *event = m->event ? m->event : r ? r->id : "notice";
	const char *tmpl = lang >= 0 ? r->headline[lang] : NULL;

	if (puts_(b, "{"))
		return NORM_ENOMEM;
	if (lang >= 0 && r->headline_lang[lang][0] != '\0' &&
	    (cap_json_member(b, "language", r->headline_lang[lang]) || puts_(b, ",")))
		return NORM_ENOMEM;
	if (tmpl == NULL && m->headline == NULL)
		tmpl = m->device != NULL ? "{rule} at {device}" : "{rule}";
	const char *category = cap_category(standard_of(m));
	if (puts_(b, "\"category\":[") || cap_json_string(b, category, strlen(category)))
		return NORM_ENOMEM;
	if (puts_(b, "],") || cap_json_member(b, "event", event) || puts_(b, ",") ||
	    cap_json_member(b, "urgency", urgency(m)) || puts_(b, ",") ||
	    cap_json_member(b, "severity", cap_severity_name(severity_of(m))) || puts_(b, ",") ||
	    cap_json_member(b, "certainty", "Observed") ||
	    templated(b, "headline", m->headline, tmpl, m, scratch) ||
	    templated(b, "description", m->description, r ? r->description : NULL, m, scratch) ||
	    templated(b, "instruction", m->instruction, r ? r->instruction : NULL, m, scratch) ||
	    area(b, m) || puts_(b, "}"))
		return NORM_ENOMEM;
	return NORM_OK;
}

static int trailer(struct norm_buf *b, const struct cap_message *m)
{
	const struct norm_standard *st = standard_of(m);
	char when[TIME_RFC3339_LEN], level[24];

	if (puts_(b, ",") || cap_json_member(b, "device", m->device) || puts_(b, ",") ||
	    cap_json_member(b, "standard", st ? st->id : NULL) || puts_(b, ",\"values\":"))
		return NORM_ENOMEM;
	if ((st != NULL && m->values != NULL ? norm_values_json(st, m->values, b) : puts_(b, "null")) ||
	    puts_(b, ",") || cap_json_member(b, "state", m->state ? m->state : "raised") ||
	    puts_(b, ",") || cap_json_member(b, "acked_by", m->acked_by))
		return NORM_ENOMEM;
	time_format_rfc3339(m->acked_at_ms, when);
	snprintf(level, sizeof(level), "%d", m->escalation_level);
	if (puts_(b, ",") || cap_json_member(b, "acked_at", m->acked_by ? when : NULL) ||
	    puts_(b, ",\"escalation_level\":") || puts_(b, level) || puts_(b, "}"))
		return NORM_ENOMEM;
	return NORM_OK;
}

static int header(struct norm_buf *b, const struct cap_message *m)
{
	char sent[TIME_RFC3339_LEN];
	time_format_rfc3339(m->sent_ms, sent);
	if (puts_(b, "{") || cap_json_member(b, "identifier", m->identifier) || puts_(b, ",") ||
	    cap_json_member(b, "sender", m->sender) || puts_(b, ",") ||
	    cap_json_member(b, "sent", sent) || puts_(b, ",") ||
	    cap_json_member(b, "status", m->status ? m->status : "Actual") || puts_(b, ",") ||
	    cap_json_member(b, "msgType", msg_type_name(m->msg_type)) || puts_(b, ",") ||
	    cap_json_member(b, "scope", "Restricted") || puts_(b, ",") ||
	    cap_json_member(b, "restriction", "citylink staff groups") || puts_(b, ",") ||
	    cap_json_member(b, "references", m->references))
		return NORM_ENOMEM;
	return NORM_OK;
}

int cap_render(const struct cap_message *m, struct norm_buf *out)
{
	struct norm_buf scratch = {0};
	int rc = CAP_ENOMEM;
	/* one block per headline language, unless the caller's headline overrides them */
	long n = m->rule != NULL && m->headline == NULL ? (long)m->rule->n_headline : 0;

	if (m->identifier == NULL || m->sender == NULL)
		return CAP_EINVAL;
	if (header(out, m) || puts_(out, ",\"info\":["))
		goto out;
	for (long i = 0; i < (n > 0 ? n : 1); i++)
		if ((i > 0 && puts_(out, ",")) || info(out, m, n > 0 ? i : -1, &scratch))
			goto out;
	if (puts_(out, "]") || trailer(out, m))
		goto out;
	rc = CAP_OK;
out:
	norm_buf_free(&scratch);
	return rc;
}
