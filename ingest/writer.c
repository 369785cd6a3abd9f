/*
 * The writer thread (see writer.h). One loop: make sure the database is there, apply a
 * new schema if one was handed over, read a batch from the spool, normalize it, republish
 * it, commit it with the spool checkpoint, release it.
 *
 * Republishing before the commit keeps the database's commit time (tens of ms under load)
 * out of the std/ stream's latency, and makes the stream at-least-once across a kill -9:
 * what was not committed is read again from the spool at the next start and published
 * again, where publishing after the commit lost it.
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

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000
#define READ_WAIT_MS 200
#define BATCH_BYTES (32u * 1024 * 1024)
#define MAINTAIN_EVERY_MS (6 * 3600 * 1000)
#define REPUBLISH_WAIT_MS 2000

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
};

static void set_error(struct writer *w, const char *err)
{
	pthread_mutex_lock(&w->mu);
	snprintf(w->last_error, sizeof(w->last_error), "%s", err);
	pthread_mutex_unlock(&w->mu);
}

/* ---- the database connection ---- */

static void drop_store(struct writer *w)
{
	store_batch_free(w->batch);
	w->batch = NULL;
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

/* Normalizes one spooled message into the batch. */
static void add_entry(struct writer *w, const struct spool_entry *e, const struct norm_limits *lim,
		      int republish)
{
	const struct norm_source *src;
	int rc = norm_normalize(w->cur, lim, e->topic, e->topic_len, e->payload, e->payload_len,
				e->received_ms, w->res);

	if (rc == NORM_ENOMEM)
		fatalx("out of memory normalizing a message");
	if (rc == NORM_OK) {
		store_batch_add(w->batch, e->received_ms, e->topic, e->topic_len, e->payload,
				e->payload_len, w->res, NULL, NULL);
		if (republish && spool_pos_cmp(e->next, w->published) > 0)
			queue_republish(w);
		return;
	}
	src = norm_result_source(w->res);
	log_debug("event=reject topic=\"%.*s\" reason=\"%s\"", (int)e->topic_len, e->topic,
		  norm_result_reason(w->res));
	store_batch_add(w->batch, e->received_ms, e->topic, e->topic_len, e->payload,
			e->payload_len, NULL, norm_result_reason(w->res), src ? src->id : NULL);
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

/* ---- the loop ---- */

struct tuning {
	struct norm_schema *next;
	int stop;
	int64_t deadline;
	size_t batch_max;
	int linger_ms, republish;
	struct norm_limits limits;
};

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
		int n;

		if (t.next != NULL)
			apply_schema(w, t.next);
		if (t.stop && (clock_mono_ms() > t.deadline || spool_backlog_bytes(w->cfg.spool) == 0))
			break;
		if (w->store == NULL && connect_store(w) != 0) {
			backoff(w);
			continue;
		}
		maybe_maintain(w);
		if (t.linger_ms > 0 && !full && !t.stop)
			clock_sleep_ms(t.linger_ms);
		n = spool_read(w->cfg.spool, w->sb, t.batch_max, BATCH_BYTES, READ_WAIT_MS);
		if (n < 0) {
			log_warn("event=spool_read_failed");
			clock_sleep_ms(READ_WAIT_MS);
			continue;
		}
		full = (size_t)n >= t.batch_max;
		if (n > 0)
			process_batch(w, &t.limits, t.republish);
	}
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
	drop_store(w);
	norm_schema_free(w->next);
	norm_schema_free(w->cur);
	spool_batch_free(w->sb);
	norm_result_free(w->res);
	norm_buf_free(&w->pubs);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
