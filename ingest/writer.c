/*
 * The writer thread (see writer.h). One loop: make sure the database is there, apply a
 * new schema if one was handed over, read a batch from the spool, normalize it, republish
 * it, commit it with the spool checkpoint, release it.
 *
 * Republishing before the commit keeps the database's commit time (tens of ms under load)
 * out of the std/ stream's latency, and makes the stream at-least-once across a kill -9:
 * what was not committed is read again from the spool at the next start and published
 * again, where publishing after the commit lost it.
 *
 * The commit itself runs on the committer thread (committer.c) while this one reads,
 * normalizes and republishes what arrives meanwhile into the other of two slots, handed
 * over as soon as the committer is free: the stream never waits for a COMMIT. A failed
 * commit drops both slots and re-reads from the checkpoint (a refused batch then goes the
 * one-thread way, message by message, as before); the republish mark keeps what was
 * published already from going out twice.
 */
#include "ingest/writer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/store.h"
#include "common/xmalloc.h"
#include "ingest/committer.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000
#define READ_WAIT_MS 200
#define BATCH_BYTES (32u * 1024 * 1024)
#define MAINTAIN_EVERY_MS (6 * 3600 * 1000)
#define REPUBLISH_WAIT_MS 2000
#define POLL_COMMIT_MS 2     /* spool read wait while a slot waits for the committer */
#define FILL_GATHER_MS 1
/* How often the spool is released: each release writes and fsyncs the local checkpoint
 * (two fsyncs on the disk PostgreSQL's WAL uses), which held this thread up to tens of ms
 * when it ran after every commit. The database's checkpoint is the one that counts. */
#define RELEASE_EVERY_MS 250
#define ARENA_BLOCK (1u << 20)

/* Copies of the spooled messages a slot holds: the store borrows them until its commit,
 * while the spool batch they came from is read over. Blocks are kept for reuse. */
struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	char data[];
};

/* Messages read and republished, then committed as one batch. */
struct slot {
	struct store_batch *batch;
	struct arena_block *blocks;
	size_t messages;
	struct spool_pos end;
	int64_t first_received_ms;
};

struct writer {
	struct writer_config cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	/* Shared with other threads, under mu. */
	struct norm_schema *next;
	int stop;
	int64_t drain_deadline;
	size_t batch_max;
	int linger_ms, republish;
	struct norm_limits limits;
	char last_error[512];
	/* The thread's own. */
	struct norm_schema *cur;
	struct store *store;
	struct store_batch *batch;
	struct spool_batch *sb;
	struct norm_result *res;
	struct norm_buf pubs;  /* "topic\0json\0" per record to republish */
	size_t n_pubs;
	/* Entries before it are republished: a batch read again after a database outage is
	 * stored, not published a second time. */
	struct spool_pos published;
	int backoff_ms;
	int64_t maintained_ms;
	struct committer *committer;
	struct spool_pos release_pos;  /* committed up to here, not yet released */
	int release_pending;
	int64_t released_ms;
	struct slot slots[2];
	int filling;                 /* the slot being filled; the other may be committing */
	int committing;
};

static void set_error(struct writer *w, const char *err)
{
	pthread_mutex_lock(&w->mu);
	snprintf(w->last_error, sizeof(w->last_error), "%s", err);
	pthread_mutex_unlock(&w->mu);
}

/* ---- the database connection ---- */

static void free_slot_batches(struct writer *w)
{
	for (int i = 0; i < 2; i++) {
		store_batch_free(w->slots[i].batch);
		w->slots[i].batch = NULL;
	}
}

static void create_slot_batches(struct writer *w)
{
	for (int i = 0; i < 2; i++)
		w->slots[i].batch = store_batch_create(w->store);
}

/* The committer is idle whenever this runs (see collect). */
static void drop_store(struct writer *w)
{
	store_batch_free(w->batch);
	w->batch = NULL;
	free_slot_batches(w);
	store_close(w->store);
	w->store = NULL;
	atomic_store(&w->cfg.counters->db_up, 0);
}

/* Moves the spool's reader to where the database says the spool was stored up to (it
 * can be ahead of the local checkpoint after a crash between COMMIT and release). */
static int sync_checkpoint(struct writer *w, char *err, size_t errlen)
{
	struct spool_pos pos;
	int found = store_checkpoint_get(w->store, spool_id(w->cfg.spool), &pos.segment,
					 &pos.offset, err, errlen);
	if (found < 0)
		return -1;
	spool_rewind(w->cfg.spool);
	if (found == 1 && spool_seek(w->cfg.spool, pos) != 0)
		log_warnx("event=checkpoint_ahead segment=%llu offset=%llu "
			  "reason=\"the database's checkpoint is beyond the spool; reading on from the local one\"",
			  (unsigned long long)pos.segment, (unsigned long long)pos.offset);
	return 0;
}

static int connect_store(struct writer *w)
{
	char err[512];

	w->store = store_connect(w->cfg.db, "citylink-ingest", err, sizeof(err));
	if (w->store == NULL || store_prepare(w->store, w->cur, err, sizeof(err)) != 0 ||
	    sync_checkpoint(w, err, sizeof(err)) != 0) {
		log_warnx("event=db_unavailable retry_ms=%d error=\"%s\"", w->backoff_ms, err);
		set_error(w, err);
		drop_store(w);
		return -1;
	}
	w->batch = store_batch_create(w->store);
	create_slot_batches(w);
	w->backoff_ms = BACKOFF_MIN_MS;
	w->maintained_ms = clock_mono_ms();
	atomic_store(&w->cfg.counters->db_up, 1);
	set_error(w, "");
	log_info("event=db_ready");
	return 0;
}

/* Waits out the backoff in small steps so a stop request is not held up. */
static void backoff(struct writer *w)
{
	for (int waited = 0; waited < w->backoff_ms; waited += 50) {
		int stop;
		pthread_mutex_lock(&w->mu);
		stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop && clock_mono_ms() > w->drain_deadline)
			return;
		clock_sleep_ms(50);
	}
	w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
}

static void apply_schema(struct writer *w, struct norm_schema *s)
{
	char err[512];
	struct norm_schema *old = w->cur;

	w->cur = s;
	if (w->store != NULL && store_prepare(w->store, s, err, sizeof(err)) != 0) {
		/* Retried with the new set when the database is back (connect_store). */
		log_warnx("event=migrate_failed error=\"%s\"", err);
		set_error(w, err);
		drop_store(w);
	} else if (w->store != NULL) {
		store_batch_free(w->batch);
		w->batch = store_batch_create(w->store);
		free_slot_batches(w);
		create_slot_batches(w);
		log_info("event=schema_applied");
	}
	norm_schema_free(old);
}

static void maybe_maintain(struct writer *w)
{
	char err[512];

	if (clock_mono_ms() - w->maintained_ms < MAINTAIN_EVERY_MS)
		return;
	w->maintained_ms = clock_mono_ms();
	if (store_maintain(w->store, err, sizeof(err)) != 0)
		log_warnx("event=partition_maintenance_failed error=\"%s\"", err);
}

/* ---- one batch ---- */

static void queue_republish(struct writer *w)
{
	for (size_t i = 0; i < norm_result_count(w->res); i++) {
		const struct norm_record *rec = norm_result_record(w->res, i);
		xcheck(norm_buf_printf(&w->pubs, "std/%s/%s", rec->source->standard->id,
				       rec->device));
		xcheck(norm_buf_append(&w->pubs, "", 1));
		xcheck(norm_record_json(rec, &w->pubs));
		xcheck(norm_buf_append(&w->pubs, "", 1));
		w->n_pubs++;
	}
}

/* Normalizes one spooled message into batch b. */
static void add_entry_to(struct writer *w, struct store_batch *b, const struct spool_entry *e,
			 const struct norm_limits *lim, int republish)
{
	const struct norm_source *src;
	int rc = norm_normalize(w->cur, lim, e->topic, e->topic_len, e->payload, e->payload_len,
				e->received_ms, w->res);

	if (rc == NORM_ENOMEM)
		fatalx("out of memory normalizing a message");
	if (rc == NORM_OK) {
		store_batch_add(b, e->received_ms, e->topic, e->topic_len, e->payload,
				e->payload_len, w->res, NULL, NULL);
		if (republish && spool_pos_cmp(e->next, w->published) > 0)
			queue_republish(w);
		return;
	}
	src = norm_result_source(w->res);
	log_debug("event=reject topic=\"%.*s\" reason=\"%s\"", (int)e->topic_len, e->topic,
		  norm_result_reason(w->res));
	store_batch_add(b, e->received_ms, e->topic, e->topic_len, e->payload,
			e->payload_len, NULL, norm_result_reason(w->res), src ? src->id : NULL);
}

static void add_entry(struct writer *w, const struct spool_entry *e, const struct norm_limits *lim,
		      int republish)
{
	add_entry_to(w, w->batch, e, lim, republish);
}

static void republish(struct writer *w)
{
	const char *p = w->pubs.data;
	char err[256];
	size_t dropped = 0;

	for (size_t i = 0; i < w->n_pubs; i++) {
		const char *topic = p;
		const char *json = topic + strlen(topic) + 1;
		p = json + strlen(json) + 1;
		if (mqtt_publish(w->cfg.mqtt, topic, json, strlen(json), 1, 0, REPUBLISH_WAIT_MS,
				 err, sizeof(err)) == 0)
			atomic_fetch_add(&w->cfg.counters->republished, 1);
		else
			dropped++;
	}
	if (dropped > 0) {
		/* Stored, but not on std/...: one line per batch, not one per record. */
		atomic_fetch_add(&w->cfg.counters->republish_dropped, dropped);
		log_warnx("event=republish_dropped records=%zu error=\"%s\"", dropped, err);
	}
}

static void count(struct writer *w, const struct store_counts *c, int64_t first_received_ms)
{
	struct ingest_counters *k = w->cfg.counters;
	atomic_fetch_add(&k->stored, c->inserted);
	atomic_fetch_add(&k->duplicates, c->duplicates);
	atomic_fetch_add(&k->conflicts, c->conflicts);
	atomic_fetch_add(&k->rejected, c->rejected);
	atomic_fetch_add(&k->commits, 1);
	atomic_store(&k->db_lag_ms, clock_wall_ms() - first_received_ms);
	if (c->conflicts > 0)
		log_warnx("event=conflict records=%zu reason=\"same device and time as a stored "
			  "record with other values; kept the first, the message is in rejects\"",
			  c->conflicts);
}

/* Commits the batch up to pos. 0 stored; -1 database down; -2 refused. */
static int commit(struct writer *w, struct spool_pos pos, int64_t first_received_ms)
{
	struct store_checkpoint ck = {spool_id(w->cfg.spool), w->cfg.client_id, pos.segment,
				      pos.offset};
	struct store_counts c;
	char err[512];

	if (store_commit(w->store, w->batch, &ck, &c, err, sizeof(err)) != 0) {
		set_error(w, err);
		if (store_is_down(w->store)) {
			log_warnx("event=db_lost error=\"%s\"", err);
			drop_store(w);
			return -1;
		}
		log_warnx("event=batch_refused messages=%zu error=\"%s\"",
			  store_batch_messages(w->batch), err);
		return -2;
	}
	if (spool_release(w->cfg.spool, pos) != 0)
		log_warn("event=spool_release_failed");
	count(w, &c, first_received_ms);
	return 0;
}

/* A refused batch, again one message per transaction; a message the database still
 * refuses is stored as a reject carrying the database's reason. */
static int commit_one_by_one(struct writer *w, const struct norm_limits *lim)
{
	char reason[600];

	for (size_t i = 0; i < spool_batch_count(w->sb); i++) {
		const struct spool_entry *e = spool_batch_entry(w->sb, i);
		int rc;

		store_batch_reset(w->batch);
		add_entry(w, e, lim, 0);
		rc = commit(w, e->next, e->received_ms);
		if (rc == -1)
			return -1;
		if (rc == 0)
			continue;
		pthread_mutex_lock(&w->mu);
		snprintf(reason, sizeof(reason), "the database refused it: %s", w->last_error);
		pthread_mutex_unlock(&w->mu);
		store_batch_reset(w->batch);
		store_batch_add(w->batch, e->received_ms, e->topic, e->topic_len, e->payload,
				e->payload_len, NULL, reason, NULL);
		rc = commit(w, e->next, e->received_ms);
		if (rc == -1)
			return -1;
		if (rc == -2) {
			/* Not even as a reject: skip it rather than stall every message after. */
			log_warnx("event=message_skipped topic=\"%.*s\" reason=\"%s\"",
				  (int)e->topic_len, e->topic, reason);
			store_batch_reset(w->batch);
			if (commit(w, e->next, e->received_ms) != 0)
				return -1;
		}
	}
	return 0;
}

static void process_batch(struct writer *w, const struct norm_limits *lim, int repub)
{
	size_t n = spool_batch_count(w->sb);
	const struct spool_entry *last = spool_batch_entry(w->sb, n - 1);
	int64_t first = spool_batch_entry(w->sb, 0)->received_ms;
	int rc;

	store_batch_reset(w->batch);
	w->pubs.len = 0;
	w->n_pubs = 0;
	for (size_t i = 0; i < n; i++)
		add_entry(w, spool_batch_entry(w->sb, i), lim, repub);
	if (repub) {
		republish(w);
		if (spool_pos_cmp(last->next, w->published) > 0)
			w->published = last->next;
	}
	rc = commit(w, last->next, first);
	if (rc == -2)
		rc = commit_one_by_one(w, lim);
	if (rc == -1) {
		spool_rewind(w->cfg.spool);
		return;
	}
}

struct tuning {
	struct norm_schema *next;
	int stop;
	int64_t deadline;
	size_t batch_max;
	int linger_ms, republish;
	struct norm_limits limits;
};

/* ---- the pipeline: fill one slot while the committer stores the other ---- */

static const char *arena_copy(struct slot *sl, const void *p, size_t n)
{
	struct arena_block *b = sl->blocks;
	char *d;

	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = xmalloc(sizeof(*b) + cap);
		b->cap = cap;
		b->used = 0;
		b->next = sl->blocks;
		sl->blocks = b;
	}
	d = b->data + b->used;
	if (n > 0)
		memcpy(d, p, n);
	b->used += n;
	return d;
}

/* Empties a slot, keeping one block of its arena for the next batch (all if !keep). */
static void slot_reset(struct slot *sl, int keep)
{
	struct arena_block *kept = NULL, *b, *next;

	for (b = sl->blocks; b != NULL; b = next) {
		next = b->next;
		if (keep && kept == NULL && b->cap == ARENA_BLOCK) {
			kept = b;
			kept->used = 0;
			kept->next = NULL;
		} else {
			free(b);
		}
	}
	sl->blocks = kept;
	if (sl->batch != NULL)
		store_batch_reset(sl->batch);
	sl->messages = 0;
}

/* Reads what the spool has into the filling slot and republishes it. */
static void fill(struct writer *w, const struct tuning *t)
{
	struct slot *sl = &w->slots[w->filling];
	size_t room = t->batch_max > sl->messages ? t->batch_max - sl->messages : 0;
	int waiting = sl->messages > 0 || w->committing;
	int n;

	if (room == 0)
		return;
	/* While a commit runs, reading whatever one message brings would wake this thread
	 * and the MQTT I/O thread per message: a millisecond gathers what came meanwhile. */
	if (w->committing)
		clock_sleep_ms(FILL_GATHER_MS);
	n = spool_read(w->cfg.spool, w->sb, room, BATCH_BYTES, waiting ? POLL_COMMIT_MS : READ_WAIT_MS);
	if (n < 0) {
		log_warn("event=spool_read_failed");
		clock_sleep_ms(READ_WAIT_MS);
		return;
	}
	w->pubs.len = 0;
	w->n_pubs = 0;
	for (int i = 0; i < n; i++) {
		struct spool_entry e = *spool_batch_entry(w->sb, (size_t)i);
		e.topic = arena_copy(sl, e.topic, e.topic_len);
		e.payload = arena_copy(sl, e.payload, e.payload_len);
		if (sl->messages++ == 0)
			sl->first_received_ms = e.received_ms;
		add_entry_to(w, sl->batch, &e, &t->limits, t->republish);
		sl->end = e.next;
	}
	if (n > 0 && t->republish) {
		republish(w);
		if (spool_pos_cmp(sl->end, w->published) > 0)
			w->published = sl->end;
	}
}

static void submit(struct writer *w)
{
	struct slot *sl = &w->slots[w->filling];
	struct store_checkpoint ck = {spool_id(w->cfg.spool), w->cfg.client_id, sl->end.segment,
				      sl->end.offset};

	committer_submit(w->committer, w->store, sl->batch, &ck);
	w->committing = 1;
	w->filling ^= 1;
}

/* Releases the spool up to what was committed, now. */
static void release_now(struct writer *w)
{
	if (!w->release_pending)
		return;
	if (spool_release(w->cfg.spool, w->release_pos) != 0)
		log_warn("event=spool_release_failed");
	w->release_pending = 0;
	w->released_ms = clock_mono_ms();
}

static void release_due(struct writer *w, int stopping)
{
	if (w->release_pending && (stopping || clock_mono_ms() - w->released_ms >= RELEASE_EVERY_MS))
		release_now(w);
}

/* After a refused batch, from its start again: one batch the one-thread way, and message
 * by message if it is refused again (process_batch). */
static void recover_refused(struct writer *w, size_t messages, const struct norm_limits *lim,
			    int repub)
{
	int n = spool_read(w->cfg.spool, w->sb, messages, BATCH_BYTES, 0);

	if (n < 0)
		log_warn("event=spool_read_failed");
	else if (n > 0)
		process_batch(w, lim, repub);
}

/* Takes the committer's result, if any (waits for it if wait): releases the spool and
 * counts, or drops both slots and reads again from the checkpoint. */
static void collect(struct writer *w, int wait, const struct norm_limits *lim, int repub)
{
	struct slot *done = &w->slots[w->filling ^ 1];
	struct commit_result r;
	size_t messages = done->messages;

	if (!w->committing || !committer_collect(w->committer, wait, &r))
		return;
	w->committing = 0;
	if (r.rc == 0) {
		w->release_pos = done->end;
		w->release_pending = 1;
		count(w, &r.counts, done->first_received_ms);
		slot_reset(done, 1);
		return;
	}
	/* What was committed before stays committed: released first, so the rewind does not
	 * go back behind it. */
	release_now(w);
	set_error(w, r.err);
	slot_reset(done, 1);
	slot_reset(&w->slots[w->filling], 1);
	spool_rewind(w->cfg.spool);
	if (r.rc == -1) {
		log_warnx("event=db_lost error=\"%s\"", r.err);
		drop_store(w);
		return;
	}
	log_warnx("event=batch_refused messages=%zu error=\"%s\"", messages, r.err);
	recover_refused(w, messages, lim, repub);
}

/* Commits what the slots hold and waits for it: the store is the thread's alone after. */
static void drain(struct writer *w, const struct norm_limits *lim, int repub)
{
	for (;;) {
		if (w->committing)
			collect(w, 1, lim, repub);
		else if (w->store != NULL && w->slots[w->filling].messages > 0)
			submit(w);
		else
			return;
	}
}

/* ---- the loop ---- */

static struct tuning snapshot(struct writer *w)
{
	struct tuning t;
	pthread_mutex_lock(&w->mu);
	t.next = w->next;
	w->next = NULL;
	t.stop = w->stop;
	t.deadline = w->drain_deadline;
	t.batch_max = w->batch_max;
	t.linger_ms = w->linger_ms;
	t.republish = w->republish && w->cfg.mqtt != NULL;
	t.limits = w->limits;
	pthread_mutex_unlock(&w->mu);
	return t;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	int full = 0;

	for (;;) {
		struct tuning t = snapshot(w);

		if (t.next != NULL) {
			drain(w, &t.limits, t.republish);
			apply_schema(w, t.next);
		}
		if (t.stop && (clock_mono_ms() > t.deadline ||
			       (spool_backlog_bytes(w->cfg.spool) == 0 && !w->committing)))
			break;
		if (w->store == NULL) {
			release_now(w); /* connecting rewinds to the released checkpoint */
			if (connect_store(w) != 0) {
				backoff(w);
				continue;
			}
		}
		collect(w, 0, &t.limits, t.republish);
		release_due(w, t.stop);
		if (w->store == NULL)
			continue;
		if (!w->committing && w->slots[w->filling].messages == 0)
			maybe_maintain(w);
		if (t.linger_ms > 0 && !full && !t.stop)
			clock_sleep_ms(t.linger_ms);
		fill(w, &t);
		full = w->slots[w->filling].messages >= t.batch_max;
		if (!w->committing && w->slots[w->filling].messages > 0)
			submit(w);
		else if (full)
			collect(w, 1, &t.limits, t.republish);
	}
	/* The store goes with the thread: not while the committer uses it. */
	if (w->committing) {
		struct tuning t = snapshot(w);
		collect(w, 1, &t.limits, 0);
		norm_schema_free(t.next);
	}
	release_now(w);
	return NULL;
}

/* ---- control ---- */

struct writer *writer_start(const struct writer_config *cfg, struct norm_schema *s)
{
	struct writer *w = xcalloc(1, sizeof(*w));

	w->cfg = *cfg;
	w->cur = s;
	w->batch_max = cfg->batch_max;
	w->linger_ms = cfg->batch_linger_ms;
	w->limits = cfg->limits;
	w->republish = cfg->mqtt != NULL;
	w->backoff_ms = BACKOFF_MIN_MS;
	w->committer = committer_start();
	w->sb = spool_batch_create();
	w->res = norm_result_create();
	if (w->sb == NULL || w->res == NULL)
		fatalx("out of memory starting the writer");
	pthread_mutex_init(&w->mu, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		fatal("pthread_create");
	return w;
}

void writer_set_schema(struct writer *w, struct norm_schema *s)
{
	pthread_mutex_lock(&w->mu);
	norm_schema_free(w->next); /* an earlier set that was never applied */
	w->next = s;
	pthread_mutex_unlock(&w->mu);
}

int writer_schema_pending(struct writer *w)
{
	int pending;
	pthread_mutex_lock(&w->mu);
	pending = w->next != NULL;
	pthread_mutex_unlock(&w->mu);
	return pending;
}

void writer_set_tuning(struct writer *w, size_t batch_max, int batch_linger_ms,
		       const struct norm_limits *limits, int republish)
{
	pthread_mutex_lock(&w->mu);
	w->batch_max = batch_max;
	w->linger_ms = batch_linger_ms;
	w->limits = *limits;
	w->republish = republish && w->cfg.mqtt != NULL;
	pthread_mutex_unlock(&w->mu);
}

void writer_last_error(struct writer *w, char *buf, size_t len)
{
	pthread_mutex_lock(&w->mu);
	snprintf(buf, len, "%s", w->last_error);
	pthread_mutex_unlock(&w->mu);
}

void writer_stop(struct writer *w, int drain_ms)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	w->drain_deadline = clock_mono_ms() + drain_ms;
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	committer_stop(w->committer);
	drop_store(w);
	slot_reset(&w->slots[0], 0);
	slot_reset(&w->slots[1], 0);
	norm_schema_free(w->next);
	norm_schema_free(w->cur);
	spool_batch_free(w->sb);
	norm_result_free(w->res);
	norm_buf_free(&w->pubs);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
