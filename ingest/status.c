/* citylink-ingest's health report (see status.h). */
#include "ingest/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "normalizer/timefmt.h"

#define VERSION "0.1.0"

void status_topic(const char *client_id, char *buf, size_t len)
{
	snprintf(buf, len, "citylink/status/ingest/%s", client_id);
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[TIME_RFC3339_LEN];
	time_format_rfc3339(ms, buf);
	cJSON_AddStringToObject(o, key, buf);
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
	cJSON *o = cJSON_CreateObject();
	char *text;

	if (o == NULL)
		fatalx("out of memory");
	cJSON_AddStringToObject(o, "service", "ingest");
	cJSON_AddStringToObject(o, "client_id", s->client_id);
	cJSON_AddStringToObject(o, "state", s->state);
	cJSON_AddStringToObject(o, "version", VERSION);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	if (s->counters != NULL) {
		add_time(o, "time", clock_wall_ms());
		add_time(o, "started", s->started_ms);
		add_counters(o, s->counters);
		cJSON_AddNumberToObject(o, "spool_bytes", (double)s->spool_bytes);
		cJSON_AddStringToObject(o, "mqtt", s->mqtt_ready ? "ready" : "connecting");
		cJSON_AddStringToObject(o, "last_error", s->last_error ? s->last_error : "");
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		fatalx("out of memory");
	return text;
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
