/* SQL text for store.c (see store_sql.h). */
#include "common/store_sql.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "normalizer/normalize.h"

/* The key columns every std_ table starts with, in COPY order. */
#define KEY_COLUMNS 4 /* time, device_id, source, received_at */

static void put(struct norm_buf *b, const char *s)
{
	xcheck(norm_buf_append(b, s, strlen(s)));
}

/* A quoted identifier, optionally with a prefix and suffix ("stage_" name "_lat"). */
static void ident(struct norm_buf *b, const char *prefix, const char *name, const char *suffix)
{
	char one[2] = {0, 0};

	put(b, "\"");
	put(b, prefix);
	for (const char *p = name; *p != '\0'; p++) {
		one[0] = *p;
		put(b, *p == '"' ? "\"\"" : one);
	}
	put(b, suffix);
	put(b, "\"");
}

static char *take(struct norm_buf *b)
{
	char *s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

/* "alias.col1, alias.col2, ..." over the field columns (geo: _lat, _lon). */
static void field_columns(struct norm_buf *b, const struct norm_standard *st, const char *alias)
{
	for (size_t i = 0; i < st->n_fields; i++) {
		const struct norm_field *f = &st->fields[i];
		int halves = f->type == NORM_GEO ? 2 : 1;
		for (int h = 0; h < halves; h++) {
			put(b, ", ");
			put(b, alias);
			ident(b, "", f->name, f->type != NORM_GEO ? "" : h == 0 ? "_lat" : "_lon");
		}
	}
}

static int count_columns(const struct norm_standard *st)
{
	int n = KEY_COLUMNS + 1; /* + _msg */
	for (size_t i = 0; i < st->n_fields; i++)
		n += st->fields[i].type == NORM_GEO ? 2 : 1;
	return n;
}

static char *build_create(const struct norm_standard *st)
{
	struct norm_buf b = {0};

	put(&b, "DROP TABLE IF EXISTS pg_temp.");
	ident(&b, "stage_", st->table, "");
	/* LIKE copies the column types (whatever migrations made of them); _msg points back
	 * at the message in the batch. The rows go at each commit. */
	put(&b, "; CREATE TEMP TABLE ");
	ident(&b, "stage_", st->table, "");
	put(&b, " (LIKE ");
	ident(&b, "", st->table, "");
	put(&b, ") ON COMMIT DELETE ROWS; ALTER TABLE pg_temp.");
	ident(&b, "stage_", st->table, "");
	put(&b, " ADD COLUMN \"_msg\" integer");
	return take(&b);
}

static char *build_copy(const struct norm_standard *st)
{
	struct norm_buf b = {0};

	put(&b, "COPY pg_temp.");
	ident(&b, "stage_", st->table, "");
	put(&b, " (\"time\", \"device_id\", \"source\", \"received_at\"");
	field_columns(&b, st, "");
	put(&b, ", \"_msg\") FROM STDIN (FORMAT binary)");
	return take(&b);
}

static char *build_insert(const struct norm_standard *st)
{
	struct norm_buf b = {0};

	put(&b, "INSERT INTO ");
	ident(&b, "", st->table, "");
	put(&b, " (\"time\", \"device_id\", \"source\", \"received_at\"");
	field_columns(&b, st, "");
	put(&b, ") SELECT \"time\", \"device_id\", \"source\", \"received_at\"");
	field_columns(&b, st, "");
	put(&b, " FROM pg_temp.");
	ident(&b, "stage_", st->table, "");
	/* Key order, so two instances inserting overlapping redeliveries take row locks in
	 * the same order and cannot deadlock. */
	put(&b, " ORDER BY \"device_id\", \"time\" ON CONFLICT DO NOTHING");
	return take(&b);
}

static char *build_conflicts(const struct norm_standard *st)
{
	struct norm_buf b = {0};

	put(&b, "SELECT s.\"_msg\", s.\"device_id\", to_char(s.\"time\" AT TIME ZONE 'UTC', "
		"'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM pg_temp.");
	ident(&b, "stage_", st->table, "");
	put(&b, " s JOIN ");
	ident(&b, "", st->table, "");
	put(&b, " t ON t.\"device_id\" = s.\"device_id\" AND t.\"time\" = s.\"time\" WHERE "
		"ROW(s.\"source\"");
	field_columns(&b, st, "s.");
	put(&b, ") IS DISTINCT FROM ROW(t.\"source\"");
	field_columns(&b, st, "t.");
	put(&b, ") ORDER BY s.\"_msg\"");
	return take(&b);
}

static char *build_devices(const struct norm_standard *st)
{
	struct norm_buf b = {0};

	put(&b, "INSERT INTO \"devices\" (\"id\", \"source\", \"standard\", \"first_seen\", "
		"\"last_seen\") SELECT \"device_id\", \"source\", '");
	put(&b, st->id); /* standard ids are [a-z0-9-]: nothing to escape */
	put(&b, "', min(\"received_at\"), max(\"received_at\") FROM pg_temp.");
	ident(&b, "stage_", st->table, "");
	put(&b, " GROUP BY \"device_id\", \"source\" ORDER BY \"device_id\", \"source\" "
		"ON CONFLICT (\"id\", \"source\") DO UPDATE SET "
		"\"first_seen\" = least(\"devices\".\"first_seen\", EXCLUDED.\"first_seen\"), "
		"\"last_seen\" = greatest(\"devices\".\"last_seen\", EXCLUDED.\"last_seen\"), "
		"\"standard\" = EXCLUDED.\"standard\"");
	return take(&b);
}

void store_sql_build(struct store_sql *q, const struct norm_standard *st)
{
	q->st = st;
	q->columns = count_columns(st);
	q->create = build_create(st);
	q->copy = build_copy(st);
	q->insert = build_insert(st);
	q->conflicts = build_conflicts(st);
	q->devices = build_devices(st);
}

void store_sql_free(struct store_sql *q)
{
	free(q->create);
	free(q->copy);
	free(q->insert);
	free(q->conflicts);
	free(q->devices);
	memset(q, 0, sizeof(*q));
}

const char store_sql_rejects_create[] =
	"CREATE TEMP TABLE IF NOT EXISTS \"stage_rejects\" (\"received_at\" timestamptz, "
	"\"topic\" text, \"payload\" bytea, \"reason\" text, \"source\" text) "
	"ON COMMIT DELETE ROWS";

const char store_sql_rejects_copy[] =
	"COPY pg_temp.\"stage_rejects\" (\"received_at\", \"topic\", \"payload\", \"reason\", "
	"\"source\") FROM STDIN (FORMAT binary)";

/* One row per distinct (topic, payload), counting arrivals; the latest reason wins. */
const char store_sql_rejects_insert[] =
	"INSERT INTO \"rejects\" (\"received_at\", \"last_received_at\", \"topic\", \"payload\", "
	"\"reason\", \"source\", \"count\") "
	"SELECT min(\"received_at\"), max(\"received_at\"), \"topic\", \"payload\", "
	"max(\"reason\"), max(\"source\"), count(*) FROM pg_temp.\"stage_rejects\" "
	"GROUP BY \"topic\", \"payload\" "
	"ON CONFLICT (\"topic\", md5(\"payload\")) DO UPDATE SET "
	"\"count\" = \"rejects\".\"count\" + EXCLUDED.\"count\", "
	"\"last_received_at\" = greatest(\"rejects\".\"last_received_at\", "
	"EXCLUDED.\"last_received_at\"), \"reason\" = EXCLUDED.\"reason\", "
	"\"source\" = EXCLUDED.\"source\"";

const char store_sql_checkpoint_put[] =
	"INSERT INTO \"ingest_checkpoints\" (\"spool_id\", \"segment\", \"offset\", \"client_id\", "
	"\"updated_at\") VALUES ($1, $2, $3, $4, now()) ON CONFLICT (\"spool_id\") DO UPDATE SET "
	"\"segment\" = EXCLUDED.\"segment\", \"offset\" = EXCLUDED.\"offset\", "
	"\"client_id\" = EXCLUDED.\"client_id\", \"updated_at\" = now()";

const char store_sql_checkpoint_get[] =
	"SELECT \"segment\", \"offset\" FROM \"ingest_checkpoints\" WHERE \"spool_id\" = $1";
