/*
 * What citylink-ingest has done since it started, for the retained status, systemd's
 * STATUS= and the logs. Written by the receive and writer threads, read by the main one.
 */
#ifndef CITYLINK_INGEST_COUNTERS_H
#define CITYLINK_INGEST_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

struct ingest_counters {
	atomic_uint_least64_t received;    /* messages spooled */
	atomic_uint_least64_t stored;      /* records inserted into std_* tables */
	atomic_uint_least64_t rejected;    /* messages stored in rejects */
	atomic_uint_least64_t duplicates;  /* records already stored (redeliveries) */
	atomic_uint_least64_t conflicts;   /* same device and time, different values */
	atomic_uint_least64_t republished; /* records published to std/... */
	atomic_uint_least64_t republish_dropped;
	atomic_uint_least64_t commits;
	atomic_int_least64_t db_lag_ms;    /* receive to commit, last batch */
	atomic_int db_up;                  /* the database answers and tables are ready */
};

#endif
