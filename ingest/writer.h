/*
 * The writer thread: reads batches from the spool, normalizes them, republishes the
 * records on std/<standard>/<device>, has them stored in PostgreSQL with the spool
 * checkpoint in the same transaction (common/store.h, on the committer thread of
 * committer.h, while it reads on), and releases them from the spool. Rides out
 * database outages: reconnects with backoff and re-reads from the checkpoint. A batch the
 * database refuses (not an outage) is retried message by message, and a message that
 * still fails goes to rejects with the database's reason: nothing stalls the stream.
 */
#ifndef CITYLINK_INGEST_WRITER_H
#define CITYLINK_INGEST_WRITER_H

#include <stddef.h>

#include "common/mqtt.h"
#include "common/spool.h"
#include "ingest/counters.h"
#include "normalizer/normalize.h"

struct writer_config {
	const char *db;              /* conninfo */
	const char *client_id;
	struct spool *spool;         /* borrowed */
	struct mqtt *mqtt;           /* borrowed; NULL: no republish */
	struct ingest_counters *counters;
	size_t batch_max;
	int batch_linger_ms;
	struct norm_limits limits;
};

struct writer;

/* Starts the thread with schema s (ownership passes to the writer). */
struct writer *writer_start(const struct writer_config *cfg, struct norm_schema *s);

/* Hands over a new schema set (ownership passes), applied between two batches; the
 * previous one is freed once the tables are migrated. Thread-safe. */
void writer_set_schema(struct writer *w, struct norm_schema *s);

/* 1 while a schema handed over is not yet taken by the thread. */
int writer_schema_pending(struct writer *w);

/* Changes the reloadable knobs (batch size, linger, limits, republish). Thread-safe. */
void writer_set_tuning(struct writer *w, size_t batch_max, int batch_linger_ms,
		       const struct norm_limits *limits, int republish);

/* The last database problem, "" if none (thread-safe copy). */
void writer_last_error(struct writer *w, char *buf, size_t len);

/* Stores what the spool holds (waiting up to drain_ms for the database), then stops the
 * thread and frees w. */
void writer_stop(struct writer *w, int drain_ms);

#endif
