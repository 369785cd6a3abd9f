/*
 * citylink-ingest's health report: a JSON object published retained on
 * citylink/status/ingest/<client-id> (with the same shape, state "offline", as the last
 * will), and a one-line summary for systemd's STATUS=.
 */
#ifndef CITYLINK_INGEST_STATUS_H
#define CITYLINK_INGEST_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/counters.h"

struct status_info {
	const char *client_id;
	const char *state;        /* "starting" "running" "paused" "stopping" "offline" */
	int64_t started_ms;
	uint64_t spool_bytes;
	uint64_t spool_damaged_bytes; /* skipped as torn or corrupt since start */
	int mqtt_ready;
	const char *last_error;   /* "" if none */
	const struct ingest_counters *counters; /* NULL for the last will */
};

/* The status topic for client_id, into buf. */
void status_topic(const char *client_id, char *buf, size_t len);

/* The JSON report. Caller frees with free(). */
char *status_json(const struct status_info *s);

/* "received=N stored=N rejected=N spool=N db=up mqtt=ready" */
void status_line(const struct status_info *s, char *buf, size_t len);

#endif
