/*
 * Storing normalized records and refused messages in PostgreSQL, exactly once.
 *
 * A batch collects messages: the records each produced (as binary COPY rows, one stream
 * per standard) or its reject reason. store_commit writes a batch in one transaction:
 * COPY into a temporary staging table per standard, then INSERT ... ON CONFLICT DO
 * NOTHING into std_<standard> (so a redelivered message is a no-op), the devices seen,
 * the rejects, and the caller's spool checkpoint, then COMMIT. Either all of it is stored
 * or none of it, so replaying from the checkpoint after a crash stores nothing twice.
 *
 * A record whose (device, time) is already stored with *different* values is not lost
 * silently: its message goes to rejects with the reason, and the first record stays.
 *
 * Used by citylink-ingest and by `citylink rejects replay`. Out of memory ends the
 * process (xmalloc.h). Not thread-safe: one store and its batches per thread.
 */
#ifndef CITYLINK_STORE_H
#define CITYLINK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/normalize.h"

struct store;
struct store_batch;

/* Where a spool stands once a batch is stored; committed with it. */
struct store_checkpoint {
	const char *spool_id;
	const char *client_id;
	uint64_t segment, offset;
};

/* What one commit did, for counters and logs. */
struct store_counts {
	size_t inserted;    /* new rows in std_* tables */
	size_t duplicates;  /* identical records already stored (redeliveries) */
	size_t conflicts;   /* records refused: same device and time, different values */
	size_t rejected;    /* messages stored in rejects (conflicts included) */
};

/* Connects. Returns the store (caller frees with store_close) or NULL with err. */
struct store *store_connect(const char *conninfo, const char *application_name, char *err,
			    size_t errlen);
void store_close(struct store *st);
/* 1 when the connection is gone and the caller should reconnect. */
int store_is_down(struct store *st);

/* Creates or migrates the tables for s (DDL from ddl.c) and prepares the staging tables.
 * Call after connecting and after every schema reload. 0, or -1 with err. */
int store_prepare(struct store *st, const struct norm_schema *s, char *err, size_t errlen);

/* Keeps the monthly partitions ahead of the calendar. 0, or -1 with err. */
int store_maintain(struct store *st, char *err, size_t errlen);

/* Reads the committed checkpoint of spool_id: 1 found, 0 none yet, -1 error (err). */
int store_checkpoint_get(struct store *st, const char *spool_id, uint64_t *segment,
			 uint64_t *offset, char *err, size_t errlen);

/* A batch for the schema st was last prepared with. Caller frees with store_batch_free. */
struct store_batch *store_batch_create(const struct store *st);
void store_batch_free(struct store_batch *b);
/* Empties b for the next batch (and follows a schema change of its store). */
void store_batch_reset(struct store_batch *b);
size_t store_batch_messages(const struct store_batch *b);

/*
 * Adds one message and what became of it: its records (r after NORM_OK) or, when reason
 * is not NULL, a reject with that reason and source (NULL when no source matched).
 * topic and payload are borrowed: they must stay valid until the batch is committed or
 * reset.
 */
void store_batch_add(struct store_batch *b, int64_t received_ms, const char *topic,
		     size_t topic_len, const void *payload, size_t payload_len,
		     const struct norm_result *r, const char *reason, const char *source);

/* Deletes reject row id in the same transaction as the batch (rejects replay: the
 * message now passes, and its records are in the batch). */
void store_batch_forget_reject(struct store_batch *b, int64_t id);

/*
 * Stores b in one transaction with the checkpoint ck (may be NULL) and fills counts.
 * Returns 0; or -1 with err, the transaction rolled back and nothing stored (check
 * store_is_down to tell an outage from a refused batch).
 */
int store_commit(struct store *st, struct store_batch *b, const struct store_checkpoint *ck,
		 struct store_counts *counts, char *err, size_t errlen);

#endif
