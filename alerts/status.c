/* citylink-alerts' health report (see status.h). */
#include "alerts/status.h"

#include <stdio.h>

#include "common/health.h"

#define N(k, f) ((double)atomic_load(&(k)->f))

static void add_counters(cJSON *o, const struct alerts_counters *k)
{
	cJSON_AddNumberToObject(o, "records", N(k, records));
	cJSON_AddNumberToObject(o, "records_refused", N(k, records_refused));
	cJSON_AddNumberToObject(o, "open", N(k, open));
	cJSON_AddNumberToObject(o, "raised", N(k, raised));
	cJSON_AddNumberToObject(o, "suppressed", N(k, suppressed));
	cJSON_AddNumberToObject(o, "cleared", N(k, cleared));
	cJSON_AddNumberToObject(o, "acked", N(k, acked));
	cJSON_AddNumberToObject(o, "acks_refused", N(k, acks_refused));
	cJSON_AddNumberToObject(o, "escalated", N(k, escalated));
	cJSON_AddNumberToObject(o, "reminders", N(k, reminders));
	cJSON_AddNumberToObject(o, "deadline_notices", N(k, deadline_notices));
	cJSON_AddNumberToObject(o, "publish_failed", N(k, publish_failed));
	cJSON_AddStringToObject(o, "db", atomic_load(&k->db_up) ? "up" : "down");
}

char *alerts_status_json(const struct alerts_status *s)
{
	cJSON *o = health_begin("alerts", s->client_id, s->state,
				s->counters != NULL ? s->started_ms : 0);

	if (s->counters != NULL) {
		cJSON_AddStringToObject(o, "ruleset", s->ruleset);
		add_counters(o, s->counters);
		cJSON_AddStringToObject(o, "mqtt", s->mqtt_ready ? "ready" : "connecting");
		cJSON_AddStringToObject(o, "last_error", s->last_error ? s->last_error : "");
	}
	return health_finish(o);
}

void alerts_status_line(const struct alerts_status *s, char *buf, size_t len)
{
	const struct alerts_counters *k = s->counters;

	snprintf(buf, len,
		 "%s: records=%llu open=%llu raised=%llu acked=%llu escalated=%llu "
		 "acks_refused=%llu db=%s mqtt=%s",
		 s->state, (unsigned long long)atomic_load(&k->records),
		 (unsigned long long)atomic_load(&k->open),
		 (unsigned long long)atomic_load(&k->raised),
		 (unsigned long long)atomic_load(&k->acked),
		 (unsigned long long)atomic_load(&k->escalated),
		 (unsigned long long)atomic_load(&k->acks_refused),
		 atomic_load(&k->db_up) ? "up" : "down", s->mqtt_ready ? "ready" : "connecting");
}
