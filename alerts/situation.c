/* Situation helpers (see situation.h). */
#include "alerts/situation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"raised", "acknowledged", "escalated", "cleared",
					  "closed"};

const char *sit_state_name(enum sit_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

int sit_state_parse(const char *name, enum sit_state *out)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(state_names[i], name) == 0) {
			*out = (enum sit_state)i;
			return 0;
		}
	return -1;
}

void sit_clear(struct situation *s)
{
	free(s->id);
	free(s->rule_id);
	free(s->device);
	free(s->source);
	free(s->standard);
	free(s->severity);
	free(s->groups);
	free(s->acked_by);
	free(s->ack_note);
	free(s->record_json);
	memset(s, 0, sizeof(*s));
}

int sit_make_id(const char *rule_id, const char *device, int episode, char *buf, size_t len)
{
	int dlen = (int)strnlen(device, SIT_DEVICE_ID_MAX);
	int n = snprintf(buf, len, "%s.%.*s.%d", rule_id, dlen, device, episode);
	size_t start = strlen(rule_id) + 1, end;

	if (n < 0 || (size_t)n >= len)
		return -1;
	end = start + (size_t)dlen;
	for (size_t i = start; i < end; i++) {
		char c = buf[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			buf[i] = '_';
	}
	return 0;
}
