/*
 * The ingest's committer thread: commits one batch at a time (common/store.h) while the
 * writer thread goes on reading, normalizing and republishing the next messages, so a
 * slow COMMIT (a stalled disk under PostgreSQL's WAL: hundreds of ms measured on this
 * machine) is no longer in the std/ stream's latency. It only commits: releasing the
 * spool, counting and recovering stay with the writer, which hands over a batch only
 * while the committer is idle and touches neither the store nor that batch until the
 * result is collected.
 */
#ifndef CITYLINK_INGEST_COMMITTER_H
#define CITYLINK_INGEST_COMMITTER_H

#include "common/store.h"

struct committer;

struct commit_result {
	int rc;                    /* 0 stored; -1 the database is down; -2 it refused the batch */
	struct store_counts counts;
	char err[512];
};

/* Starts the thread (caller stops it with committer_stop). */
struct committer *committer_start(void);
/* Joins the thread; nothing may be submitted or uncollected. */
void committer_stop(struct committer *c);

/* Commits b with checkpoint ck on st (all borrowed until the result is collected; ck's
 * strings too). Only while idle. */
void committer_submit(struct committer *c, struct store *st, struct store_batch *b,
		      const struct store_checkpoint *ck);
/* 1 and r filled when the submitted batch is done (waiting for it if wait), else 0. */
int committer_collect(struct committer *c, int wait, struct commit_result *r);

#endif
