/*
 * What citylink-alerts has done since it started, for the retained status, systemd's
 * STATUS= and the logs. Written under the daemon's lock by the MQTT I/O thread and the main
 * thread, read by the main thread for reports.
 */
#ifndef CITYLINK_ALERTS_COUNTERS_H
#define CITYLINK_ALERTS_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

struct alerts_counters {
	atomic_uint_least64_t records;        /* std/ records evaluated */
	atomic_uint_least64_t records_refused; /* std/ messages that did not parse */
	atomic_uint_least64_t raised;
	atomic_uint_least64_t suppressed;     /* raises within reraise_after */
	atomic_uint_least64_t cleared;
	atomic_uint_least64_t acked;
	atomic_uint_least64_t acks_refused;   /* bad JSON, unknown or closed situation */
	atomic_uint_least64_t escalated;
	atomic_uint_least64_t reminders;
	atomic_uint_least64_t deadline_notices;
	atomic_uint_least64_t publish_failed;
	atomic_uint_least64_t open;           /* situations open now */
	atomic_int db_up;
};

#endif
