/*
 * citylink-alerts' health report: a JSON object published retained on
 * citylink/status/alerts/<client-id> (state "offline" as the last will), and a one-line
 * summary for systemd's STATUS=.
 */
#ifndef CITYLINK_ALERTS_STATUS_H
#define CITYLINK_ALERTS_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/counters.h"

struct alerts_status {
	const char *client_id;
	const char *state;       /* "starting" "standby" "active" "offline" */
	const char *ruleset;
	int64_t started_ms;
	int mqtt_ready;
	const char *last_error;  /* "" if none */
	const struct alerts_counters *counters; /* NULL for the last will */
};

/* The JSON report. Caller frees with free(). */
char *alerts_status_json(const struct alerts_status *s);

/* "active: records=N open=N raised=N acked=N escalated=N acks_refused=N db=up mqtt=ready" */
void alerts_status_line(const struct alerts_status *s, char *buf, size_t len);

#endif
