/*
 * PostgreSQL DDL for a schema set. Everything is written to be re-run: tables, partitions
 * and indexes are CREATE ... IF NOT EXISTS and every field column is also added with
 * ADD COLUMN IF NOT EXISTS, so applying the DDL of a standard that gained fields migrates
 * an existing table forward. Columns are never dropped or retyped here: that loses data
 * and is a decision for a person, not a generator.
 */
#include "common/ddl.h"

#include <stdio.h>
#include <string.h>

#include "normalizer/timefmt.h"
#include "normalizer/units.h"

/* Monthly partitions exist from last month to three months ahead; the daemons call
 * citylink_ensure_partitions again every day, so the window moves with the calendar. */
#define DDL_MONTHS_BACK "1"
#define DDL_MONTHS_AHEAD "3"

/*
 * A buffer with a sticky error, so that a long run of appends is checked once at the end
 * instead of after each line (each append is still checked, in put()).
 */
struct sql {
	struct norm_buf *b;
	int err;
};

static void put(struct sql *q, const char *s)
{
	if (q->err == 0 && norm_buf_append(q->b, s, strlen(s)) != 0)
		q->err = NORM_ENOMEM;
}

/* Appends s between two quotes with every quote inside doubled: the SQL rule for both
 * identifiers ("...") and string literals ('...', standard_conforming_strings). */
static void put_quoted(struct sql *q, const char *s, char quote)
{
	char qs[2] = {quote, '\0'};

	put(q, qs);
	for (const char *p = s; q->err == 0 && *p != '\0'; p++) {
		if (*p == quote)
			put(q, qs);
		if (q->err == 0 && norm_buf_append(q->b, p, 1) != 0)
			q->err = NORM_ENOMEM;
	}
	put(q, qs);
}

static void ident(struct sql *q, const char *name)
{
	put_quoted(q, name, '"');
}

/* An identifier made of a name and a suffix ("std_x" "_default"). */
static void ident2(struct sql *q, const char *name, const char *suffix)
{
	struct norm_buf tmp = {0};
	if (norm_buf_printf(&tmp, "%s%s", name, suffix) != 0)
		q->err = NORM_ENOMEM;
	else
		ident(q, tmp.data);
	norm_buf_free(&tmp);
}

static void literal(struct sql *q, const char *text)
{
	put_quoted(q, text, '\'');
}

const char *ddl_column_type(enum norm_type t)
{
	switch (t) {
	case NORM_NUMBER:
	case NORM_GEO: /* per column: <name>_lat and <name>_lon */
		return "double precision";
	case NORM_INTEGER:
		return "bigint";
	case NORM_BOOLEAN:
		return "boolean";
	case NORM_ENUM: /* no CHECK: a standard may add values; the normalizer validates */
	case NORM_STRING:
		return "text";
	}
	return "text";
}

/* Calls fn once per column of f: one column, or the two halves of a geo point. */
static void each_column(struct sql *q, const struct norm_standard *st, const struct norm_field *f,
			void (*fn)(struct sql *, const struct norm_standard *,
				   const struct norm_field *, const char *suffix))
{
	if (f->type == NORM_GEO) {
		fn(q, st, f, "_lat");
		fn(q, st, f, "_lon");
	} else {
		fn(q, st, f, "");
	}
}

static void column_def(struct sql *q, const struct norm_standard *st, const struct norm_field *f,
		       const char *suffix)
{
	(void)st;
	put(q, ",\n  ");
	ident2(q, f->name, suffix);
	put(q, " ");
	put(q, ddl_column_type(f->type));
}

static void add_column(struct sql *q, const struct norm_standard *st, const struct norm_field *f,
		       const char *suffix)
{
	put(q, "ALTER TABLE ");
	ident(q, st->table);
	put(q, " ADD COLUMN IF NOT EXISTS ");
	ident2(q, f->name, suffix);
	put(q, " ");
	put(q, ddl_column_type(f->type));
	put(q, ";\n");
}

static void create_table(struct sql *q, const struct norm_standard *st)
{
	put(q, "CREATE TABLE IF NOT EXISTS ");
	ident(q, st->table);
	put(q, " (\n  \"time\" timestamptz NOT NULL,\n  \"device_id\" text NOT NULL,\n"
	       "  \"source\" text NOT NULL,\n  \"received_at\" timestamptz NOT NULL DEFAULT now()");
	for (size_t i = 0; i < st->n_fields; i++)
		each_column(q, st, &st->fields[i], column_def);
	/* The unique key includes the partition key, as PostgreSQL requires; it is also what
	 * makes a redelivered message a no-op (ON CONFLICT DO NOTHING). */
	put(q, ",\n  UNIQUE (\"device_id\", \"time\")\n) PARTITION BY RANGE (\"time\");\n");
	for (size_t i = 0; i < st->n_fields; i++)
		each_column(q, st, &st->fields[i], add_column);
	/* Rows land in the default partition until someone adds ranged ones. */
	put(q, "CREATE TABLE IF NOT EXISTS ");
	ident2(q, st->table, "_default");
	put(q, " PARTITION OF ");
	ident(q, st->table);
	put(q, " DEFAULT;\nCREATE INDEX IF NOT EXISTS ");
	ident2(q, st->table, "_time_idx");
	put(q, " ON ");
	ident(q, st->table);
	put(q, " (\"time\");\n");
}

/* "Unit: ug/m3. Range: 0..1000. Required. One of: a, b." then the description. */
static void field_comment(struct sql *c, const struct norm_field *f, const char *half)
{
	char num[48];

	if (half != NULL) {
		put(c, half);
		put(c, " of ");
		put(c, f->name);
		put(c, " (WGS 84, degrees). ");
	}
	if (f->unit != NULL) {
		put(c, "Unit: ");
		put(c, unit_name(f->unit));
		put(c, ". ");
	}
	if (f->has_range) {
		snprintf(num, sizeof(num), "Range: %.15g..", f->min);
		put(c, num);
		snprintf(num, sizeof(num), "%.15g. ", f->max);
		put(c, num);
	}
	for (size_t i = 0; i < f->n_values; i++) {
		put(c, i == 0 ? "One of: " : ", ");
		put(c, f->values[i]);
	}
	put(c, f->n_values > 0 ? ". " : "");
	if (f->max_length > 0) {
		snprintf(num, sizeof(num), "At most %ld characters. ", f->max_length);
		put(c, num);
	}
	put(c, f->required ? "Required. " : "");
	put(c, f->description ? f->description : "");
}

static void comment_column(struct sql *q, const struct norm_standard *st,
			   const struct norm_field *f, const char *suffix)
{
	struct norm_buf text = {0};
	struct sql c = {&text, 0};
	const char *half = NULL;

	if (suffix[0] != '\0')
		half = strcmp(suffix, "_lat") == 0 ? "Latitude" : "Longitude";

	field_comment(&c, f, half);
	/* Drop the blank a part leaves when no description follows it. */
	while (c.err == 0 && text.len > 0 && text.data[text.len - 1] == ' ')
		text.data[--text.len] = '\0';
	if (c.err != 0) {
		q->err = NORM_ENOMEM;
	} else {
		put(q, "COMMENT ON COLUMN ");
		ident(q, st->table);
		put(q, ".");
		ident2(q, f->name, suffix);
		put(q, " IS ");
		literal(q, text.data ? text.data : "");
		put(q, ";\n");
	}
	norm_buf_free(&text);
}

static void comment_table(struct sql *q, const struct norm_standard *st)
{
	struct norm_buf text = {0};
	char every[32];

	duration_format(st->interval_ms, every, sizeof(every));
	if (norm_buf_printf(&text, "%s (standard %s, version %d, expected every %s)%s%s",
			    st->title ? st->title : st->id, st->id, st->version, every,
			    st->description ? ". " : "", st->description ? st->description : "") != 0) {
		q->err = NORM_ENOMEM;
	} else {
		put(q, "COMMENT ON TABLE ");
		ident(q, st->table);
		put(q, " IS ");
		literal(q, text.data);
		put(q, ";\n");
	}
	norm_buf_free(&text);
}

static void ensure_partitions(struct sql *q, const struct norm_standard *st)
{
	put(q, "SELECT citylink_ensure_partitions(");
	literal(q, st->table);
	put(q, ", " DDL_MONTHS_BACK ", " DDL_MONTHS_AHEAD ");\n");
}

static void standard_ddl(struct sql *q, const struct norm_standard *st)
{
	put(q, "\n-- standard ");
	put(q, st->id);
	put(q, "\n");
	create_table(q, st);
	comment_table(q, st);
	for (size_t i = 0; i < st->n_fields; i++)
		each_column(q, st, &st->fields[i], comment_column);
	ensure_partitions(q, st);
}

/* The tables every deployment has, whatever its standards (design.md, Storage). */
static const char shared_tables[] =
	"CREATE TABLE IF NOT EXISTS \"devices\" (\n"
	"  \"id\" text NOT NULL,\n"
	"  \"source\" text NOT NULL,\n"
	"  \"standard\" text NOT NULL,\n"
	"  \"first_seen\" timestamptz NOT NULL DEFAULT now(),\n"
	"  \"last_seen\" timestamptz NOT NULL DEFAULT now(),\n"
	"  PRIMARY KEY (\"id\", \"source\")\n"
	");\n"
	"COMMENT ON TABLE \"devices\" IS 'Every device seen, per source: first and last message.';\n"
	"CREATE TABLE IF NOT EXISTS \"rejects\" (\n"
	"  \"id\" bigserial PRIMARY KEY,\n"
	"  \"received_at\" timestamptz NOT NULL,\n"
	"  \"topic\" text NOT NULL,\n"
	"  \"payload\" bytea NOT NULL,\n"
	"  \"reason\" text NOT NULL,\n"
	"  \"source\" text\n"
	");\n"
	/* One row per distinct (topic, payload): a broker redelivery after a crash, or a
	 * device repeating the same bad message, counts instead of piling up rows. */
	"ALTER TABLE \"rejects\" ADD COLUMN IF NOT EXISTS \"last_received_at\" timestamptz;\n"
	"ALTER TABLE \"rejects\" ADD COLUMN IF NOT EXISTS \"count\" bigint NOT NULL DEFAULT 1;\n"
	"CREATE INDEX IF NOT EXISTS \"rejects_received_at_idx\" ON \"rejects\" (\"received_at\");\n"
	"CREATE UNIQUE INDEX IF NOT EXISTS \"rejects_message_key\" ON \"rejects\" "
	"(\"topic\", md5(\"payload\"));\n"
	"COMMENT ON TABLE \"rejects\" IS 'Every refused payload with its reason, once per distinct "
	"topic and payload (count says how often it arrived); source is NULL when no source matched "
	"the topic.';\n"
	"CREATE TABLE IF NOT EXISTS \"ingest_checkpoints\" (\n"
	"  \"spool_id\" text PRIMARY KEY,\n"
	"  \"segment\" bigint NOT NULL,\n"
	"  \"offset\" bigint NOT NULL,\n"
	"  \"client_id\" text,\n"
	"  \"updated_at\" timestamptz NOT NULL DEFAULT now()\n"
	");\n"
	"COMMENT ON TABLE \"ingest_checkpoints\" IS 'How far each ingest spool is stored, committed "
	"with the rows: a restart replays only what follows.';\n"
	/* citylink-alerts: one row per situation (rule, device, episode), its timers as
	 * columns so a restart re-arms them, and the history of every change. At most one
	 * open situation per rule and device, enforced here and not only in the daemon. */
	"CREATE TABLE IF NOT EXISTS \"alerts\" (\n"
	"  \"id\" text PRIMARY KEY,\n"
	"  \"rule\" text NOT NULL,\n"
	"  \"device\" text NOT NULL,\n"
	"  \"episode\" integer NOT NULL,\n"
	"  \"version\" integer NOT NULL DEFAULT 1,\n"
	"  \"standard\" text NOT NULL,\n"
	"  \"source\" text,\n"
	"  \"severity\" text NOT NULL,\n"
	"  \"groups\" text NOT NULL DEFAULT '',\n"
	"  \"state\" text NOT NULL CHECK (\"state\" IN ('raised', 'acknowledged', 'escalated', "
	"'cleared', 'closed')),\n"
	"  \"raised_at\" timestamptz NOT NULL,\n"
	"  \"acked_by\" text,\n"
	"  \"acked_at\" timestamptz,\n"
	"  \"ack_note\" text,\n"
	"  \"escalation_level\" integer NOT NULL DEFAULT 0,\n"
	"  \"next_escalation_at\" timestamptz,\n"
	"  \"next_reminder_at\" timestamptz,\n"
	"  \"deadline_at\" timestamptz,\n"
	"  \"pre_deadline_sent\" boolean NOT NULL DEFAULT false,\n"
	"  \"overdue_sent\" boolean NOT NULL DEFAULT false,\n"
	"  \"cleared_at\" timestamptz,\n"
	"  \"closed_at\" timestamptz,\n"
	"  \"last_values\" jsonb NOT NULL DEFAULT '{}',\n"
	"  \"unpublished\" boolean NOT NULL DEFAULT true,\n"
	"  \"updated_at\" timestamptz NOT NULL DEFAULT now(),\n"
	"  UNIQUE (\"rule\", \"device\", \"episode\")\n"
	");\n"
	/* Several rule sets may share one database, each with its own active instance: a
	 * situation belongs to the rule set that raised it. */
	"ALTER TABLE \"alerts\" ADD COLUMN IF NOT EXISTS \"ruleset\" text NOT NULL DEFAULT '';\n"
	"DROP INDEX IF EXISTS \"alerts_open_key\";\n"
	"CREATE UNIQUE INDEX IF NOT EXISTS \"alerts_open_per_ruleset\" ON \"alerts\" "
	"(\"ruleset\", \"rule\", \"device\") WHERE \"state\" <> 'closed';\n"
	"COMMENT ON TABLE \"alerts\" IS 'Situations raised by citylink-alerts, one per rule, device "
	"and episode; timers are columns so a restart re-arms them; unpublished marks a change "
	"not yet sent to MQTT.';\n"
	"CREATE TABLE IF NOT EXISTS \"alert_events\" (\n"
	"  \"id\" bigserial PRIMARY KEY,\n"
	"  \"alert_id\" text REFERENCES \"alerts\" (\"id\"),\n"
	"  \"at\" timestamptz NOT NULL DEFAULT now(),\n"
	"  \"kind\" text NOT NULL,\n"
	"  \"by\" text,\n"
	"  \"note\" text,\n"
	"  \"detail\" jsonb NOT NULL DEFAULT '{}'\n"
	");\n"
	"CREATE INDEX IF NOT EXISTS \"alert_events_alert_idx\" ON \"alert_events\" (\"alert_id\", \"at\");\n"
	"COMMENT ON TABLE \"alert_events\" IS 'History of situations (raised, suppressed, "
	"acknowledged, escalated, reminded, pre_deadline, overdue, cleared, closed) and of manual "
	"notices (alert_id NULL), with who and when.';\n"
	/* A `for:` still counting, so that a restart raises it on time: written when it starts,
	 * removed when it is cancelled or raised (never once per record). */
	"CREATE TABLE IF NOT EXISTS \"alert_pending\" (\n"
	"  \"ruleset\" text NOT NULL,\n"
	"  \"rule\" text NOT NULL,\n"
	"  \"device\" text NOT NULL,\n"
	"  \"since\" timestamptz NOT NULL,\n"
	"  \"last_record\" jsonb,\n"
	"  PRIMARY KEY (\"ruleset\", \"rule\", \"device\")\n"
	");\n"
	"COMMENT ON TABLE \"alert_pending\" IS 'Pending for: timers of citylink-alerts: the "
	"condition of rule has held for device since since; a restart raises it at since plus the "
	"rule''s for: without waiting for another record; last_record (the std/ record that started "
	"it) gives that raise its values.';\n"
	/* Monthly range partitions, made ahead of time. Rows that landed in the default
	 * partition for a month that gets its own partition are moved into it first, since
	 * ATTACH refuses while the default holds rows of the new range. */
	"CREATE OR REPLACE FUNCTION citylink_ensure_partitions(tbl text, months_back int, "
	"months_ahead int) RETURNS int LANGUAGE plpgsql AS $fn$\n"
	"DECLARE\n"
	"  first date := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => months_back))::date;\n"
	"  m date;\n"
	"  part text;\n"
	"  lo timestamptz;\n"
	"  hi timestamptz;\n"
	"  made int := 0;\n"
	"BEGIN\n"
	"  PERFORM pg_advisory_xact_lock(hashtext('citylink partitions ' || tbl));\n"
	"  FOR i IN 0 .. months_back + months_ahead LOOP\n"
	"    m := (first + make_interval(months => i))::date;\n"
	"    part := tbl || '_' || to_char(m, 'YYYYMM');\n"
	"    CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;\n"
	"    lo := m::timestamp AT TIME ZONE 'UTC';\n"
	"    hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';\n"
	"    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, tbl);\n"
	"    EXECUTE format('WITH moved AS (DELETE FROM %I WHERE \"time\" >= %L AND \"time\" < %L "
	"RETURNING *) INSERT INTO %I SELECT * FROM moved', tbl || '_default', lo, hi, part);\n"
	"    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', "
	"tbl, part, lo, hi);\n"
	"    made := made + 1;\n"
	"  END LOOP;\n"
	"  RETURN made;\n"
	"END\n"
	"$fn$;\n";

int ddl_generate(const struct norm_schema *s, struct norm_buf *out)
{
	struct sql q = {out, 0};
	size_t n;
	const struct norm_standard *st = norm_schema_standards(s, &n);

	put(&q, "-- citylink schema DDL: safe to apply again (creates what is missing,\n"
		"-- adds new columns, never drops).\nBEGIN;\n"
		/* Several ingest instances may migrate at once; CREATE ... IF NOT EXISTS alone
		 * races on the catalog. */
		"SELECT pg_advisory_xact_lock(hashtext('citylink migrate'));\n\n");
	put(&q, shared_tables);
	for (size_t i = 0; i < n; i++)
		standard_ddl(&q, &st[i]);
	put(&q, "\nCOMMIT;\n");
	return q.err;
}

int ddl_maintain(const struct norm_schema *s, struct norm_buf *out)
{
	struct sql q = {out, 0};
	size_t n;
	const struct norm_standard *st = norm_schema_standards(s, &n);

	for (size_t i = 0; i < n; i++)
		ensure_partitions(&q, &st[i]);
	return q.err;
}
