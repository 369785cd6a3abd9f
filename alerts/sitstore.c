/* Situations in PostgreSQL (see sitstore.h). */
#include "alerts/sitstore.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ddl.h"
#include "common/pgutil.h"
#include "common/xmalloc.h"

struct sitstore {
	char *conninfo;
	char *ruleset;
	PGconn *conn;
};

/* Text parameters for one statement: numbers are formatted into slots owned here. */
struct params {
	const char *v[24];
	char num[24][24];
	int n;
};

static void p_text(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

static void p_int(struct params *p, long long x)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* A time in ms, NULL when 0 (the SQL converts with to_timestamp($n / 1000.0)). */
static void p_time(struct params *p, int64_t ms)
{
	if (ms == 0)
		p_text(p, NULL);
	else
		p_int(p, ms);
}

static void p_bool(struct params *p, int b)
{
	p_text(p, b ? "t" : "f");
}

struct sitstore *sitstore_open(const char *conninfo, char *err, size_t errlen)
{
	struct sitstore *st = xcalloc(1, sizeof(*st));

	st->conninfo = xstrdup(conninfo);
	st->ruleset = xstrdup("");
	if ((st->conn = pg_connect(conninfo, "citylink-alerts", err, errlen)) == NULL) {
		sitstore_close(st);
		return NULL;
	}
	return st;
}

void sitstore_close(struct sitstore *st)
{
	if (st == NULL)
		return;
	PQfinish(st->conn);
	free(st->conninfo);
	free(st->ruleset);
	free(st);
}

void sitstore_set_ruleset(struct sitstore *st, const char *ruleset)
{
	free(st->ruleset);
	st->ruleset = xstrdup(ruleset);
}

int sitstore_is_down(struct sitstore *st)
{
	return pg_is_down(st->conn);
}

int sitstore_reconnect(struct sitstore *st, char *err, size_t errlen)
{
	PQfinish(st->conn);
	st->conn = pg_connect(st->conninfo, "citylink-alerts", err, errlen);
	return st->conn != NULL ? 0 : -1;
}

int sitstore_migrate(struct sitstore *st, const struct norm_schema *s, char *err, size_t errlen)
{
	struct norm_buf ddl = {0};
	int rc;

	xcheck(ddl_generate(s, &ddl));
	rc = pg_exec(st->conn, ddl.data, err, errlen);
	norm_buf_free(&ddl);
	return rc;
}

/* ---- reading ---- */

#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

static const char select_cols[] =
	"SELECT id, rule, device, source, standard, severity, episode, version, state, "
	MS("raised_at") ", " MS("acked_at") ", " MS("cleared_at") ", " MS("closed_at") ", "
	MS("next_escalation_at") ", " MS("next_reminder_at") ", " MS("deadline_at") ", "
	"acked_by, ack_note, escalation_level, pre_deadline_sent, overdue_sent, "
	"nullif(last_values::text, '{}'), unpublished, groups FROM alerts ";

static char *col_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : xstrdup(PQgetvalue(r, row, col));
}

static int64_t col_ms(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int col_bool(const PGresult *r, int row, int col)
{
	return strcmp(PQgetvalue(r, row, col), "t") == 0;
}

static void read_row(const PGresult *r, int i, struct situation *s)
{
	memset(s, 0, sizeof(*s));
	s->id = col_text(r, i, 0);
	s->rule_id = col_text(r, i, 1);
	s->device = col_text(r, i, 2);
	s->source = col_text(r, i, 3);
	s->standard = col_text(r, i, 4);
	s->severity = col_text(r, i, 5);
	s->episode = atoi(PQgetvalue(r, i, 6));
	s->version = atoi(PQgetvalue(r, i, 7));
	if (sit_state_parse(PQgetvalue(r, i, 8), &s->state) != 0)
		s->state = SIT_RAISED; /* the table's CHECK allows only the five names */
	s->raised_at = col_ms(r, i, 9);
	s->acked_at = col_ms(r, i, 10);
	s->cleared_at = col_ms(r, i, 11);
	s->closed_at = col_ms(r, i, 12);
	s->next_escalation_at = col_ms(r, i, 13);
	s->next_reminder_at = col_ms(r, i, 14);
	s->deadline_at = col_ms(r, i, 15);
	s->acked_by = col_text(r, i, 16);
	s->ack_note = col_text(r, i, 17);
	s->level = atoi(PQgetvalue(r, i, 18));
	s->pre_deadline_sent = col_bool(r, i, 19);
	s->overdue_sent = col_bool(r, i, 20);
	s->record_json = col_text(r, i, 21);
	s->unpublished = col_bool(r, i, 22);
	s->groups = col_text(r, i, 23);
}

static int load_where(struct sitstore *st, const char *where, int nparams,
		      const char *const *params, struct situation **out, size_t *n, char *err,
		      size_t errlen)
{
	char sql[sizeof(select_cols) + 160];
	PGresult *r;

	snprintf(sql, sizeof(sql), "%s%s ORDER BY raised_at", select_cols, where);
	if ((r = pg_query(st->conn, sql, nparams, params, err, errlen)) == NULL)
		return -1;
	*n = (size_t)PQntuples(r);
	*out = xcalloc(*n + 1, sizeof(**out));
	for (size_t i = 0; i < *n; i++)
		read_row(r, (int)i, &(*out)[i]);
	PQclear(r);
	return 0;
}

int sitstore_load(struct sitstore *st, struct situation **out, size_t *n, char *err,
		  size_t errlen)
{
	const char *params[] = {st->ruleset};

	return load_where(st, "WHERE ruleset = $1 AND (state <> 'closed' OR unpublished)", 1,
			  params, out, n, err, errlen);
}

int sitstore_load_unsent(struct sitstore *st, int older_s, struct situation **out, size_t *n,
			 char *err, size_t errlen)
{
	struct params p = {0};

	p_int(&p, older_s);
	p_text(&p, st->ruleset);
	return load_where(st, "WHERE unpublished AND updated_at < now() - make_interval(secs => $1) "
			  "AND ruleset = $2", p.n, p.v, out, n, err, errlen);
}

int sitstore_each_seen(struct sitstore *st,
		       int (*fn)(void *ctx, const char *standard, const char *device,
				 int64_t last_seen_ms),
		       void *ctx, char *err, size_t errlen)
{
	PGresult *r = pg_query(st->conn,
			       "SELECT standard, id, " MS("max(last_seen)") " FROM devices "
			       "GROUP BY standard, id",
			       0, NULL, err, errlen);
	int rc = 0;

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++)
		rc = fn(ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), col_ms(r, i, 2));
	PQclear(r);
	return rc;
}

/* ---- writing ---- */

static int run(struct sitstore *st, const char *sql, const struct params *p, char *err,
	       size_t errlen)
{
	PGresult *r = pg_query(st->conn, sql, p->n, p->v, err, errlen);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

static int rollback(struct sitstore *st)
{
	char ignored[256];

	pg_exec(st->conn, "ROLLBACK", ignored, sizeof(ignored));
	return -1;
}

static const char insert_event_sql[] =
	"INSERT INTO alert_events (alert_id, kind, by, note, detail) "
	"VALUES ($1, $2, $3, $4, coalesce($5::jsonb, '{}'))";

static int insert_event(struct sitstore *st, const char *id, const char *kind, const char *by,
			const char *note, const char *detail, char *err, size_t errlen)
{
	struct params p = {0};

	p_text(&p, id);
	p_text(&p, kind);
	p_text(&p, by);
	p_text(&p, note);
	p_text(&p, detail);
	return run(st, insert_event_sql, &p, err, errlen);
}

int sitstore_event(struct sitstore *st, const char *id, const char *kind, const char *by,
		   const char *note, const char *detail, char *err, size_t errlen)
{
	return insert_event(st, id, kind, by, note, detail, err, errlen);
}

#define TS(n) "to_timestamp($" #n " / 1000.0)"

/* The columns a change may touch, as $2.. after the id in $1. */
static void row_params(struct params *p, const struct situation *s)
{
	p_text(p, s->id);
	p_int(p, s->version);
	p_text(p, sit_state_name(s->state));
	p_time(p, s->acked_at);
	p_text(p, s->acked_by);
	p_text(p, s->ack_note);
	p_int(p, s->level);
	p_time(p, s->next_escalation_at);
	p_time(p, s->next_reminder_at);
	p_time(p, s->deadline_at);
	p_bool(p, s->pre_deadline_sent);
	p_bool(p, s->overdue_sent);
	p_time(p, s->cleared_at);
	p_time(p, s->closed_at);
	p_text(p, s->record_json);
	p_text(p, s->groups);
}

static const char update_sql[] =
	"UPDATE alerts SET version = $2, state = $3, acked_at = " TS(4) ", acked_by = $5, "
	"ack_note = $6, escalation_level = $7, next_escalation_at = " TS(8) ", "
	"next_reminder_at = " TS(9) ", deadline_at = " TS(10) ", pre_deadline_sent = $11, "
	"overdue_sent = $12, cleared_at = " TS(13) ", closed_at = " TS(14) ", "
	"last_values = coalesce($15::jsonb, '{}'), groups = $16, unpublished = true, "
	"updated_at = now() "
	"WHERE id = $1";

int sitstore_save(struct sitstore *st, const struct situation *s, const char *kind,
		  const char *by, const char *note, const char *detail, char *err, size_t errlen)
{
	struct params p = {0};

	row_params(&p, s);
	if (pg_exec(st->conn, "BEGIN", err, errlen) != 0)
		return -1;
	if (run(st, update_sql, &p, err, errlen) != 0 ||
	    insert_event(st, s->id, kind, by, note, detail, err, errlen) != 0 ||
	    pg_exec(st->conn, "COMMIT", err, errlen) != 0)
		return rollback(st);
	return 0;
}

int sitstore_published(struct sitstore *st, const char *id, int version, char *err,
		       size_t errlen)
{
	struct params p = {0};

	p_text(&p, id);
	p_int(&p, version);
	return run(st, "UPDATE alerts SET unpublished = false WHERE id = $1 AND version = $2", &p,
		   err, errlen);
}

/* Open situation and last raise of this rule set; episodes count over every rule set, since
 * (rule, device, episode) is unique across them. */
static const char history_sql[] =
	"SELECT count(*), "
	"(SELECT " MS("max(raised_at)") " FROM alerts WHERE rule = $1 AND device = $2 "
	"AND ruleset = $3), "
	"(SELECT id FROM alerts WHERE rule = $1 AND device = $2 AND ruleset = $3 "
	"AND state <> 'closed'), "
	"(SELECT id FROM alerts WHERE rule = $1 AND device = $2 AND ruleset = $3 "
	"ORDER BY episode DESC LIMIT 1), "
	"coalesce(max(episode), 0) "
	"FROM alerts WHERE rule = $1 AND device = $2";

static const char insert_sql[] =
	"INSERT INTO alerts (id, rule, device, episode, version, standard, severity, state, "
	"source, raised_at, next_escalation_at, next_reminder_at, deadline_at, last_values, "
	"groups, ruleset) VALUES ($1, $2, $3, $4, 1, $5, $6, 'raised', $7, " TS(8) ", " TS(9) ", "
	TS(10) ", " TS(11) ", coalesce($12::jsonb, '{}'), $13, $14)";

/* 1 if id is taken (two device ids can make the same topic-safe id: "a b" and "a_b"),
 * 0 if free, -1 on error. */
static int id_taken(struct sitstore *st, const char *id, char *err, size_t errlen)
{
	const char *params[] = {id};
	PGresult *r = pg_query(st->conn, "SELECT 1 FROM alerts WHERE id = $1", 1, params, err,
			       errlen);
	int taken;

	if (r == NULL)
		return -1;
	taken = PQntuples(r) > 0;
	PQclear(r);
	return taken;
}

static int insert_situation(struct sitstore *st, struct situation *s, char *err, size_t errlen)
{
	char id[512];
	struct params p = {0};
	int taken;

	/* The episode count goes on past another device's episodes under the same id. */
	do {
		if (sit_make_id(s->rule_id, s->device, s->episode, id, sizeof(id)) != 0) {
			snprintf(err, errlen, "device id too long for a situation id");
			return -1;
		}
		if ((taken = id_taken(st, id, err, errlen)) < 0)
			return -1;
		s->episode += taken;
	} while (taken);
	free(s->id);
	s->id = xstrdup(id);
	s->version = 1;
	s->state = SIT_RAISED;
	p_text(&p, s->id);
	p_text(&p, s->rule_id);
	p_text(&p, s->device);
	p_int(&p, s->episode);
	p_text(&p, s->standard);
	p_text(&p, s->severity);
	p_text(&p, s->source);
	p_time(&p, s->raised_at);
	p_time(&p, s->next_escalation_at);
	p_time(&p, s->next_reminder_at);
	p_time(&p, s->deadline_at);
	p_text(&p, s->record_json);
	p_text(&p, s->groups);
	p_text(&p, st->ruleset);
	return run(st, insert_sql, &p, err, errlen);
}

/* Inside the transaction: decides between open, suppressed and a new episode. */
static int raise_in_tx(struct sitstore *st, struct situation *s, int64_t reraise_ms, char *err,
		       size_t errlen)
{
	struct params p = {0};
	PGresult *r;
	int64_t last;
	char detail[128];

	/* The raise ends the `for:` that led to it; a suppressed or duplicate one as well. */
	if (sitstore_pending_delete(st, s->rule_id, s->device, err, errlen) != 0)
		return -1;
	p_text(&p, s->rule_id);
	p_text(&p, s->device);
	p_text(&p, st->ruleset);
	if ((r = pg_query(st->conn, history_sql, p.n, p.v, err, errlen)) == NULL)
		return -1;
	last = col_ms(r, 0, 1);
	s->episode = atoi(PQgetvalue(r, 0, 4)) + 1;
	if (!PQgetisnull(r, 0, 2)) {
		free(s->id);
		s->id = col_text(r, 0, 2);
		PQclear(r);
		return SITSTORE_ALREADY_OPEN;
	}
	if (reraise_ms > 0 && last != 0 && s->raised_at - last < reraise_ms) {
		free(s->id);
		s->id = col_text(r, 0, 3);
		PQclear(r);
		snprintf(detail, sizeof(detail), "{\"last_raised_ms_ago\": %" PRId64 "}",
			 s->raised_at - last);
		if (insert_event(st, s->id, "suppressed", NULL,
				 "raised again within the rule's reraise_after", detail, err,
				 errlen) != 0)
			return -1;
		return SITSTORE_SUPPRESSED;
	}
	PQclear(r);
	if (insert_situation(st, s, err, errlen) != 0 ||
	    insert_event(st, s->id, "raised", NULL, NULL, NULL, err, errlen) != 0)
		return -1;
	return SITSTORE_RAISED;
}

int sitstore_raise(struct sitstore *st, struct situation *s, int64_t reraise_ms, char *err,
		   size_t errlen)
{
	int rc;

	if (pg_exec(st->conn, "BEGIN", err, errlen) != 0)
		return -1;
	if ((rc = raise_in_tx(st, s, reraise_ms, err, errlen)) < 0 ||
	    pg_exec(st->conn, "COMMIT", err, errlen) != 0)
		return rollback(st);
	return rc;
}

/* ---- pending for: timers ---- */

static const char pending_set_sql[] =
	"INSERT INTO alert_pending (ruleset, rule, device, since, last_record) "
	"VALUES ($1, $2, $3, " TS(4) ", $5::jsonb) "
	"ON CONFLICT (ruleset, rule, device) DO UPDATE SET since = EXCLUDED.since, "
	"last_record = EXCLUDED.last_record";

int sitstore_pending_set(struct sitstore *st, const char *rule, const char *device,
			 int64_t since_ms, const char *record_json, char *err, size_t errlen)
{
	struct params p = {0};

	p_text(&p, st->ruleset);
	p_text(&p, rule);
	p_text(&p, device);
	p_int(&p, since_ms);
	p_text(&p, record_json);
	return run(st, pending_set_sql, &p, err, errlen);
}

int sitstore_pending_delete(struct sitstore *st, const char *rule, const char *device,
			    char *err, size_t errlen)
{
	struct params p = {0};

	p_text(&p, st->ruleset);
	p_text(&p, rule);
	p_text(&p, device);
	return run(st, "DELETE FROM alert_pending WHERE ruleset = $1 AND rule = $2 AND device = $3",
		   &p, err, errlen);
}

int sitstore_each_pending(struct sitstore *st,
			  int (*fn)(void *ctx, const struct sitstore_pending *p), void *ctx,
			  char *err, size_t errlen)
{
	const char *params[] = {st->ruleset};
	PGresult *r = pg_query(st->conn,
			       "SELECT rule, device, " MS("since") ", last_record::text "
			       "FROM alert_pending WHERE ruleset = $1 ORDER BY since",
			       1, params, err, errlen);
	int rc = 0;

	if (r == NULL)
		return -1;
	/* Every row is in r already: fn may run statements (a stale row's delete). */
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		struct sitstore_pending row = {PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
					       col_ms(r, i, 2),
					       PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3)};
		rc = fn(ctx, &row);
	}
	PQclear(r);
	return rc;
}
