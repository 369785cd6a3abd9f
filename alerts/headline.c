/* Headline templates: "{pm25} ug/m3 at {device}" filled from a message (cap.h). */
#include <string.h>

#include "alerts/cap.h"
#include "normalizer/schema.h"
#include "normalizer/timefmt.h"

static int puts_(struct norm_buf *b, const char *s)
{
	return norm_buf_append(b, s != NULL ? s : "?", strlen(s != NULL ? s : "?"));
}

static int location(const struct cap_message *m, struct norm_buf *out)
{
	struct norm_field geo = {.type = NORM_GEO};
	struct norm_value v = {.present = 1, .lat = m->lat, .lon = m->lon};
	if (!m->has_location)
		return puts_(out, "unknown location");
	return norm_value_text(&geo, &v, out);
}

/* The value of placeholder name, appended; 1 when name is not a placeholder. */
static int placeholder(const char *name, const struct cap_message *m, struct norm_buf *out)
{
	const struct norm_standard *st = m->standard ? m->standard : m->rule ? m->rule->standard : NULL;
	char when[TIME_RFC3339_LEN];
	int f;

	if (strcmp(name, "device") == 0)
		return puts_(out, m->device);
	if (strcmp(name, "source") == 0)
		return puts_(out, m->source);
	if (strcmp(name, "standard") == 0)
		return puts_(out, st ? st->id : NULL);
	if (strcmp(name, "rule") == 0)
		return puts_(out, m->rule ? m->rule->id : m->event ? m->event : "notice");
	if (strcmp(name, "severity") == 0)
		return puts_(out, norm_severity_name(m->rule ? m->rule->severity : m->severity));
	if (strcmp(name, "location") == 0)
		return location(m, out);
	if (strcmp(name, "time") == 0) {
		time_format_rfc3339(m->time_ms, when);
		return puts_(out, m->time_ms != 0 ? when : NULL);
	}
	if (st == NULL || (f = norm_standard_field(st, name)) < 0)
		return 1;
	if (m->values == NULL || !m->values[f].present)
		return puts_(out, NULL);
	return norm_value_text(&st->fields[f], &m->values[f], out);
}

int headline_render(const char *tmpl, const struct cap_message *m, struct norm_buf *out)
{
	char name[128];

	while (*tmpl != '\0') {
		const char *open = strchr(tmpl, '{'), *close = open ? strchr(open, '}') : NULL;
		size_t len = close ? (size_t)(close - open - 1) : 0;
		if (close == NULL || len >= sizeof(name)) {
			/* no (usable) placeholder left: the rest is text */
			size_t upto = close == NULL ? strlen(tmpl) : (size_t)(close + 1 - tmpl);
			if (norm_buf_append(out, tmpl, upto) != NORM_OK)
				return CAP_ENOMEM;
			tmpl += upto;
			continue;
		}
		if (norm_buf_append(out, tmpl, (size_t)(open - tmpl)) != NORM_OK)
			return CAP_ENOMEM;
		memcpy(name, open + 1, len);
		name[len] = '\0';
		int rc = placeholder(name, m, out);
		if (rc == 1 && norm_buf_append(out, open, len + 2) != NORM_OK)
			return CAP_ENOMEM;
		if (rc < 0)
			return CAP_ENOMEM;
		tmpl = close + 1;
	}
	/* an empty template still leaves out NUL-terminated */
	return norm_buf_append(out, "", 0) == NORM_OK ? CAP_OK : CAP_ENOMEM;
}
