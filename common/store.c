/*
 * Batches of records and rejects into PostgreSQL in one transaction each (see store.h).
 */
#include "common/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ddl.h"
#include "common/log.h"
#include "common/pgcopy.h"
#include "common/pgutil.h"
#include "common/store_sql.h"
#include "common/xmalloc.h"

struct store {
	PGconn *conn;
	const struct norm_schema *schema;   /* borrowed from the caller */
	const struct norm_standard *standards;
	struct store_sql *sql;              /* one per standard */
	size_t n_sql;
	unsigned generation;                /* bumped by store_prepare */
	struct pgcopy conflicts;            /* rejects found during a commit */
};

/* A message of the batch; topic and payload are borrowed (store.h). */
struct msgref {
	int64_t received_ms;
	const char *topic;
	size_t topic_len;
	const void *payload;
	size_t payload_len;
};

struct store_batch {
	const struct store *st;
	unsigned generation;
	struct pgcopy *rows;   /* per standard */
	size_t n_rows;
	struct pgcopy rejects;
	struct msgref *msgs;
	size_t n_msgs, cap_msgs;
	struct norm_buf forget; /* reject ids to delete, "{1,2,3}" as it grows */
};

/* ---- connection and schema ---- */

struct store *store_connect(const char *conninfo, const char *application_name, char *err,
			    size_t errlen)
{
	struct store *st;
	PGconn *c = pg_connect(conninfo, application_name, err, errlen);

	if (c == NULL)
		return NULL;
	st = xcalloc(1, sizeof(*st));
	st->conn = c;
	return st;
}

static void free_sql(struct store *st)
{
	for (size_t i = 0; i < st->n_sql; i++)
		store_sql_free(&st->sql[i]);
	free(st->sql);
	st->sql = NULL;
	st->n_sql = 0;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	free_sql(st);
	pgcopy_free(&st->conflicts);
	PQfinish(st->conn);
	free(st);
}

int store_is_down(struct store *st)
{
	return st == NULL || pg_is_down(st->conn);
}

static int migrate(struct store *st, const struct norm_schema *s, char *err, size_t errlen)
{
	struct norm_buf ddl = {0};
	int rc;

	xcheck(ddl_generate(s, &ddl));
	rc = pg_exec(st->conn, ddl.data, err, errlen);
	norm_buf_free(&ddl);
	return rc;
}

int store_prepare(struct store *st, const struct norm_schema *s, char *err, size_t errlen)
{
	size_t n;
	const struct norm_standard *stds = norm_schema_standards(s, &n);

	if (migrate(st, s, err, errlen) != 0)
		return -1;
	free_sql(st);
	st->sql = xcalloc(n, sizeof(*st->sql));
	st->n_sql = n;
	for (size_t i = 0; i < n; i++) {
		store_sql_build(&st->sql[i], &stds[i]);
		if (pg_exec(st->conn, st->sql[i].create, err, errlen) != 0)
			return -1;
	}
	if (pg_exec(st->conn, store_sql_rejects_create, err, errlen) != 0)
		return -1;
	st->schema = s;
	st->standards = stds;
	st->generation++;
	return 0;
}

int store_maintain(struct store *st, char *err, size_t errlen)
{
	struct norm_buf sql = {0};
	int rc;

	if (st->schema == NULL)
		return 0;
	xcheck(ddl_maintain(st->schema, &sql));
	rc = sql.len == 0 ? 0 : pg_exec(st->conn, sql.data, err, errlen);
	norm_buf_free(&sql);
	return rc;
}

int store_checkpoint_get(struct store *st, const char *spool_id, uint64_t *segment,
			 uint64_t *offset, char *err, size_t errlen)
{
	const char *params[] = {spool_id};
	PGresult *res = pg_query(st->conn, store_sql_checkpoint_get, 1, params, err, errlen);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found) {
		*segment = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		*offset = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	}
	PQclear(res);
	return found;
}

/* ---- batches ---- */

struct store_batch *store_batch_create(const struct store *st)
{
	struct store_batch *b = xcalloc(1, sizeof(*b));
	b->st = st;
	b->generation = st->generation - 1; /* shaped on the first reset */
	store_batch_reset(b);
	return b;
}

static void free_rows(struct store_batch *b)
{
	for (size_t i = 0; i < b->n_rows; i++)
		pgcopy_free(&b->rows[i]);
	free(b->rows);
	b->rows = NULL;
	b->n_rows = 0;
}

void store_batch_free(struct store_batch *b)
{
	if (b == NULL)
		return;
	free_rows(b);
	pgcopy_free(&b->rejects);
	norm_buf_free(&b->forget);
	free(b->msgs);
	free(b);
}

void store_batch_reset(struct store_batch *b)
{
	if (b->generation != b->st->generation) {
		free_rows(b);
		b->n_rows = b->st->n_sql;
		b->rows = xcalloc(b->n_rows, sizeof(*b->rows));
		b->generation = b->st->generation;
	}
	for (size_t i = 0; i < b->n_rows; i++)
		pgcopy_reset(&b->rows[i]);
	pgcopy_reset(&b->rejects);
	b->n_msgs = 0;
	b->forget.len = 0;
}

size_t store_batch_messages(const struct store_batch *b)
{
	return b->n_msgs;
}

static void copy_value(struct pgcopy *c, const struct norm_field *f, const struct norm_value *v)
{
	if (!v->present) {
		pgcopy_null(c);
		if (f->type == NORM_GEO)
			pgcopy_null(c);
		return;
	}
	switch (f->type) {
	case NORM_NUMBER:
		pgcopy_float8(c, v->number);
		break;
	case NORM_INTEGER:
		pgcopy_int8(c, v->integer);
		break;
	case NORM_BOOLEAN:
		pgcopy_bool(c, v->boolean);
		break;
	case NORM_ENUM:
		pgcopy_text(c, f->values[v->enum_index]);
		break;
	case NORM_STRING:
		pgcopy_bytes(c, v->text, v->text_len);
		break;
	case NORM_GEO:
		pgcopy_float8(c, v->lat);
		pgcopy_float8(c, v->lon);
		break;
	}
}

static void add_record(struct store_batch *b, const struct norm_record *rec, int32_t msg,
		       int64_t received_ms)
{
	const struct norm_standard *std = rec->source->standard;
	size_t i = (size_t)(std - b->st->standards);
	struct pgcopy *c;

	if (i >= b->n_rows)
		fatalx("store: a record of standard %s is not of the prepared schema", std->id);
	c = &b->rows[i];
	pgcopy_row(c, b->st->sql[i].columns);
	pgcopy_timestamptz(c, rec->time_ms);
	pgcopy_text(c, rec->device);
	pgcopy_text(c, rec->source->id);
	pgcopy_timestamptz(c, received_ms);
	for (size_t f = 0; f < std->n_fields; f++)
		copy_value(c, &std->fields[f], &rec->values[f]);
	pgcopy_int4(c, msg);
}

static void add_reject(struct pgcopy *c, const struct msgref *m, const char *reason,
		       const char *source)
{
	pgcopy_row(c, 5);
	pgcopy_timestamptz(c, m->received_ms);
	pgcopy_bytes(c, m->topic, m->topic_len);
	pgcopy_bytes(c, m->payload, m->payload_len);
	pgcopy_text(c, reason);
	if (source != NULL)
		pgcopy_text(c, source);
	else
		pgcopy_null(c);
}

void store_batch_add(struct store_batch *b, int64_t received_ms, const char *topic,
		     size_t topic_len, const void *payload, size_t payload_len,
		     const struct norm_result *r, const char *reason, const char *source)
{
	struct msgref *m;

	if (b->n_msgs == b->cap_msgs) {
		b->cap_msgs = b->cap_msgs ? b->cap_msgs * 2 : 1024;
		b->msgs = xrealloc(b->msgs, b->cap_msgs * sizeof(*b->msgs));
	}
	m = &b->msgs[b->n_msgs];
	*m = (struct msgref){received_ms, topic, topic_len, payload, payload_len};
	if (reason != NULL) {
		add_reject(&b->rejects, m, reason, source);
	} else {
		for (size_t i = 0; i < norm_result_count(r); i++)
			add_record(b, norm_result_record(r, i), (int32_t)b->n_msgs, received_ms);
	}
	b->n_msgs++;
}

void store_batch_forget_reject(struct store_batch *b, int64_t id)
{
	xcheck(norm_buf_printf(&b->forget, "%s%" PRId64, b->forget.len == 0 ? "{" : ",", id));
}

/* ---- commit ---- */

/* Sends data with COPY sql. 0, or -1 with err. */
static int copy_in(PGconn *c, const char *sql, struct pgcopy *data, char *err, size_t errlen)
{
	PGresult *res = PQexec(c, sql);
	int failed = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		pg_error_text(c, res, err, errlen);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	pgcopy_finish(data);
	if (PQputCopyData(c, data->buf.data, (int)data->buf.len) != 1 ||
	    PQputCopyEnd(c, NULL) != 1) {
		pg_error_text(c, NULL, err, errlen);
		failed = 1;
	}
	/* Drain every result, so the connection is ready for the next statement. */
	while ((res = PQgetResult(c)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !failed) {
			pg_error_text(c, res, err, errlen);
			failed = 1;
		}
		PQclear(res);
	}
	return failed ? -1 : 0;
}

/* Runs sql and returns how many rows it changed, or -1 with err. */
static long exec_count(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *res = pg_query(c, sql, 0, NULL, err, errlen);
	long n;

	if (res == NULL)
		return -1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	return n;
}

/* Records that met a different stored record with the same key: their messages become
 * rejects (once per message). Returns how many records, or -1 with err. */
static long collect_conflicts(struct store *st, const struct store_batch *b, size_t i,
			      char *err, size_t errlen)
{
	PGresult *res = pg_query(st->conn, st->sql[i].conflicts, 0, NULL, err, errlen);
	long last = -1, n;
	char reason[512];

	if (res == NULL)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		long msg = atol(PQgetvalue(res, r, 0));
		if (msg == last || msg < 0 || (size_t)msg >= b->n_msgs)
			continue;
		last = msg;
		snprintf(reason, sizeof(reason),
			 "device %s already has a different %s record at %s; the first one is kept",
			 PQgetvalue(res, r, 1), st->sql[i].st->id, PQgetvalue(res, r, 2));
		add_reject(&st->conflicts, &b->msgs[msg], reason, NULL);
	}
	n = PQntuples(res);
	PQclear(res);
	return n;
}

static int store_standard(struct store *st, struct store_batch *b, size_t i,
			  struct store_counts *counts, char *err, size_t errlen)
{
	struct pgcopy *rows = &b->rows[i];
	size_t staged = rows->rows;
	long inserted, conflicts = 0;

	if (staged == 0)
		return 0;
	if (copy_in(st->conn, st->sql[i].copy, rows, err, errlen) != 0)
		return -1;
	inserted = exec_count(st->conn, st->sql[i].insert, err, errlen);
	if (inserted < 0)
		return -1;
	/* Rows not inserted met a stored key: identical (a redelivery) or conflicting. */
	if ((size_t)inserted < staged &&
	    (conflicts = collect_conflicts(st, b, i, err, errlen)) < 0)
		return -1;
	counts->inserted += (size_t)inserted;
	counts->conflicts += (size_t)conflicts;
	counts->duplicates += staged - (size_t)inserted - (size_t)conflicts;
	if (exec_count(st->conn, st->sql[i].devices, err, errlen) < 0)
		return -1;
	return 0;
}

static int store_rejects(struct store *st, struct store_batch *b, struct store_counts *counts,
			 char *err, size_t errlen)
{
	size_t n = b->rejects.rows + st->conflicts.rows;

	if (n == 0)
		return 0;
	if (b->rejects.rows > 0 && copy_in(st->conn, store_sql_rejects_copy, &b->rejects, err, errlen) != 0)
		return -1;
	if (st->conflicts.rows > 0 &&
	    copy_in(st->conn, store_sql_rejects_copy, &st->conflicts, err, errlen) != 0)
		return -1;
	if (exec_count(st->conn, store_sql_rejects_insert, err, errlen) < 0)
		return -1;
	counts->rejected += n;
	return 0;
}

static int store_checkpoint(struct store *st, const struct store_checkpoint *ck, char *err,
			    size_t errlen)
{
	char seg[24], off[24];
	const char *params[4] = {ck->spool_id, seg, off, ck->client_id};
	PGresult *res;

	snprintf(seg, sizeof(seg), "%" PRIu64, ck->segment);
	snprintf(off, sizeof(off), "%" PRIu64, ck->offset);
	res = pg_query(st->conn, store_sql_checkpoint_put, 4, params, err, errlen);
	PQclear(res);
	return res == NULL ? -1 : 0;
}

static int forget_rejects(struct store *st, struct store_batch *b, char *err, size_t errlen)
{
	const char *params[1];
	PGresult *res;

	xcheck(norm_buf_append(&b->forget, "}", 1));
	params[0] = b->forget.data;
	res = pg_query(st->conn, "DELETE FROM \"rejects\" WHERE \"id\" = ANY($1::bigint[])", 1,
		       params, err, errlen);
	b->forget.len--; /* a retried commit appends the brace again */
	b->forget.data[b->forget.len] = '\0';
	PQclear(res);
	return res == NULL ? -1 : 0;
}

static void rollback(struct store *st)
{
	char ignored[256];
	if (!pg_is_down(st->conn))
		pg_exec(st->conn, "ROLLBACK", ignored, sizeof(ignored));
}

int store_commit(struct store *st, struct store_batch *b, const struct store_checkpoint *ck,
		 struct store_counts *counts, char *err, size_t errlen)
{
	memset(counts, 0, sizeof(*counts));
	err[0] = '\0';
	if (b->generation != st->generation) {
		snprintf(err, errlen, "batch was built for another schema");
		return -1;
	}
	pgcopy_reset(&st->conflicts);
	if (pg_exec(st->conn, "BEGIN", err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < b->n_rows; i++)
		if (store_standard(st, b, i, counts, err, errlen) != 0)
			goto fail;
	if (store_rejects(st, b, counts, err, errlen) != 0)
		goto fail;
	if (ck != NULL && store_checkpoint(st, ck, err, errlen) != 0)
		goto fail;
	if (b->forget.len > 0 && forget_rejects(st, b, err, errlen) != 0)
		goto fail;
	if (pg_exec(st->conn, "COMMIT", err, errlen) != 0)
		goto fail;
	return 0;
fail:
	rollback(st);
	memset(counts, 0, sizeof(*counts));
	return -1;
}
