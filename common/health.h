/*
 * The part of a daemon's retained health report every service shares: the topic
 * citylink/status/<service>/<client-id> and the JSON fields service, client_id, state,
 * version, pid (and, for a live report, time and started). Each daemon adds its counters.
 */
#ifndef CITYLINK_HEALTH_H
#define CITYLINK_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/mqtt.h"

#define HEALTH_VERSION "0.1.0"

/* "citylink/status/<service>/<client_id>" into buf. */
void health_topic(const char *service, const char *client_id, char *buf, size_t len);

/* A report with the shared fields; started_ms > 0 adds time and started (a live report;
 * the last will has neither). Caller finishes it with health_finish. */
cJSON *health_begin(const char *service, const char *client_id, const char *state,
		    int64_t started_ms);

/* Adds key as an RFC 3339 UTC time. */
void health_add_time(cJSON *o, const char *key, int64_t ms);

/* The report as compact JSON; frees o. Caller frees the text with free(). */
char *health_finish(cJSON *o);

/* Sends a live report: json retained on topic (when connected; a failure is logged, the
 * next report retries) and line to systemd as STATUS=. Borrows everything. */
void health_send(struct mqtt *m, const char *topic, const char *json, const char *line);

#endif
