/* citylink-ingest's health report (see status.h). */
#include "ingest/status.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/health.h"

void status_topic(const char *client_id, char *buf, size_t len)
{
	health_topic("ingest", client_id, buf, len);
}

static void add_counters(cJSON *o, const struct ingest_counters *k)
{
	cJSON_AddNumberToObject(o, "received", (double)atomic_load(&k->received));
	cJSON_AddNumberToObject(o, "stored", (double)atomic_load(&k->stored));
	cJSON_AddNumberToObject(o, "rejected", (double)atomic_load(&k->rejected));
	cJSON_AddNumberToObject(o, "duplicates", (double)atomic_load(&k->duplicates));
	cJSON_AddNumberToObject(o, "conflicts", (double)atomic_load(&k->conflicts));
	cJSON_AddNumberToObject(o, "republished", (double)atomic_load(&k->republished));
	cJSON_AddNumberToObject(o, "republish_dropped", (double)atomic_load(&k->republish_dropped));
	cJSON_AddStringToObject(o, "db", atomic_load(&k->db_up) ? "up" : "down");
	cJSON_AddNumberToObject(o, "db_lag_ms", (double)atomic_load(&k->db_lag_ms));
}

char *status_json(const struct status_info *s)
{
	cJSON *o = health_begin("ingest", s->client_id, s->state,
				s->counters != NULL ? s->started_ms : 0);

	if (s->counters != NULL) {
		add_counters(o, s->counters);
		cJSON_AddNumberToObject(o, "spool_bytes", (double)s->spool_bytes);
		cJSON_AddNumberToObject(o, "spool_damaged_bytes", (double)s->spool_damaged_bytes);
		cJSON_AddStringToObject(o, "mqtt", s->mqtt_ready ? "ready" : "connecting");
		cJSON_AddStringToObject(o, "last_error", s->last_error ? s->last_error : "");
	}
	return health_finish(o);
}

void status_line(const struct status_info *s, char *buf, size_t len)
{
	const struct ingest_counters *k = s->counters;

	snprintf(buf, len,
		 "%s: received=%llu stored=%llu rejected=%llu duplicates=%llu spool=%llu db=%s mqtt=%s",
		 s->state, (unsigned long long)atomic_load(&k->received),
		 (unsigned long long)atomic_load(&k->stored),
		 (unsigned long long)atomic_load(&k->rejected),
		 (unsigned long long)atomic_load(&k->duplicates),
		 (unsigned long long)s->spool_bytes, atomic_load(&k->db_up) ? "up" : "down",
		 s->mqtt_ready ? "ready" : "connecting");
}
