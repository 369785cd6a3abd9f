/*
 * citylink rejects list|replay: what the ingest refused, and moving what now passes
 * (after an author fixed a mapping) into its table, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/pgutil.h"
#include "common/store.h"
#include "normalizer/timefmt.h"

struct args {
	const char *db, *schemas, *source, *since;
	long limit;
	int dry_run;
};

static int parse(int argc, char **argv, struct args *a)
{
	a->limit = 50;
	for (int i = 0; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--dry-run") == 0) {
			a->dry_run = 1;
			continue;
		}
		if (v == NULL)
			return -1;
		if (strcmp(argv[i], "--db") == 0)
			a->db = v;
		else if (strcmp(argv[i], "--schemas") == 0)
			a->schemas = v;
		else if (strcmp(argv[i], "--source") == 0)
			a->source = v;
		else if (strcmp(argv[i], "--since") == 0)
			a->since = v;
		else if (strcmp(argv[i], "--limit") == 0)
			a->limit = atol(v);
		else
			return -1;
		i++;
	}
	return a->db == NULL ? -1 : 0;
}

/* --since takes an ISO 8601 time or a duration back from now ("2h"). */
static int since_param(const char *since, char *buf, size_t len)
{
	int64_t ms;

	if (since == NULL) {
		snprintf(buf, len, "-infinity");
		return 0;
	}
	if (duration_parse(since, &ms) == 0) {
		snprintf(buf, len, "%lld milliseconds", (long long)ms);
		return 1;
	}
	if (time_parse_iso8601(since, strlen(since), &ms) != 0)
		return -1;
	snprintf(buf, len, "%s", since);
	return 0;
}

/* The payload as one printable line: bytes outside ASCII printables become \xNN. */
static void preview(const char *p, int len, char *out, size_t outlen)
{
	size_t o = 0;
	for (int i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (o + 4 < outlen && (size_t)len > o)
		memcpy(out + o, "...", 4), o += 3;
	out[o] = '\0';
}

/* Runs a SELECT with every column in binary format: text columns then arrive as their raw
 * bytes (libpq adds a NUL), so a bytea payload needs no hex decoding. */
static PGresult *select_binary(PGconn *c, const char *sql, int n, const char *const *params)
{
	char err[512];
	PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 1);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	pg_error_text(c, res, err, sizeof(err));
	fprintf(stderr, "citylink: rejects: %s\n", err);
	PQclear(res);
	return NULL;
}

static int list(PGconn *c, const struct args *a)
{
	char since[96], limit[24], pv[200];
	int rel = since_param(a->since, since, sizeof(since));
	const char *sql = rel == 1
		? "SELECT id::text, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), count::text, coalesce(source, '-'), topic, reason, payload FROM rejects WHERE received_at >= now() - $1::interval AND ($2::text IS NULL OR source = $2) ORDER BY received_at DESC, id DESC LIMIT $3"
		: "SELECT id::text, to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), count::text, coalesce(source, '-'), topic, reason, payload FROM rejects WHERE received_at >= $1::timestamptz AND ($2::text IS NULL OR source = $2) ORDER BY received_at DESC, id DESC LIMIT $3";
	const char *params[3] = {since, a->source, limit};
	PGresult *res;

	if (rel < 0) {
		fprintf(stderr, "citylink: rejects: --since \"%s\" is neither a time nor a duration\n", a->since);
		return 2;
	}
	snprintf(limit, sizeof(limit), "%ld", a->limit);
	if ((res = select_binary(c, sql, 3, params)) == NULL)
		return 2;
	printf("%-6s %-20s %5s %-14s %-30s %s\n", "ID", "RECEIVED", "COUNT", "SOURCE", "TOPIC",
	       "REASON / PAYLOAD");
	for (int r = 0; r < PQntuples(res); r++) {
		preview(PQgetvalue(res, r, 6), PQgetlength(res, r, 6), pv, sizeof(pv));
		printf("%-6s %-20s %5s %-14s %-30s %s\n%79s%s\n", PQgetvalue(res, r, 0),
		       PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
		       PQgetvalue(res, r, 4), PQgetvalue(res, r, 5), "", pv);
	}
	printf("%d reject%s\n", PQntuples(res), PQntuples(res) == 1 ? "" : "s");
	PQclear(res);
	return 0;
}

/* Normalizes each selected reject with the current schemas; the ones that pass go into
 * the batch, and out of rejects when it commits. Returns how many pass, or -1. */
static long replay_rows(PGresult *res, const struct norm_schema *s, struct store_batch *b,
			struct norm_result *nr)
{
	long passed = 0;

	for (int r = 0; r < PQntuples(res); r++) {
		const char *topic = PQgetvalue(res, r, 1);
		const char *payload = PQgetvalue(res, r, 2);
		size_t len = (size_t)PQgetlength(res, r, 2);
		int64_t received = atoll(PQgetvalue(res, r, 3));
		int rc = norm_normalize(s, NULL, topic, strlen(topic), payload, len, received, nr);

		if (rc == NORM_ENOMEM)
			return -1;
		if (rc != NORM_OK) {
			printf("still refused: reject %s on %s: %s\n", PQgetvalue(res, r, 0), topic,
			       norm_result_reason(nr));
			continue;
		}
		store_batch_add(b, received, topic, strlen(topic), payload, len, nr, NULL, NULL);
		store_batch_forget_reject(b, atoll(PQgetvalue(res, r, 0)));
		passed++;
	}
	return passed;
}

static int replay(struct store *st, PGconn *c, const struct args *a, const struct norm_schema *s)
{
	const char *params[1] = {a->source};
	char err[512];
	struct store_counts counts;
	struct store_batch *b = store_batch_create(st);
	struct norm_result *nr = norm_result_create();
	PGresult *res = select_binary(c,
		"SELECT id::text, topic, payload, (extract(epoch FROM received_at) * 1000)::bigint::text "
		"FROM rejects WHERE $1::text IS NULL OR source = $1 ORDER BY id", 1, params);
	long passed;
	int rc = 2;

	if (res == NULL || nr == NULL)
		goto out;
	passed = replay_rows(res, s, b, nr);
	if (passed < 0)
		goto out;
	if (a->dry_run) {
		printf("would move %ld of %d rejects into their tables (dry run)\n", passed, PQntuples(res));
		rc = 0;
	} else if (store_commit(st, b, NULL, &counts, err, sizeof(err)) != 0) {
		fprintf(stderr, "citylink: rejects replay: %s\n", err);
	} else {
		printf("replayed %d rejects: %ld now pass (%zu records stored, %zu already there), "
		       "%ld still refused\n", PQntuples(res), passed, counts.inserted,
		       counts.duplicates, PQntuples(res) - passed);
		rc = 0;
	}
out:
	PQclear(res);
	norm_result_free(nr);
	store_batch_free(b);
	return rc;
}

int cmd_rejects(int argc, char **argv)
{
	struct args a = {0};
	struct store *st = NULL;
	struct norm_schema *s = NULL;
	PGconn *c = NULL;
	char err[512];
	int rc = 2;

	if (argc < 1 || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "replay") != 0) ||
	    parse(argc - 1, argv + 1, &a) != 0 ||
	    (strcmp(argv[0], "replay") == 0 && a.schemas == NULL)) {
		fprintf(stderr, "usage: citylink rejects list --db CONNINFO [--since TIME|DURATION] [--source S] [--limit N]\n"
				"       citylink rejects replay --db CONNINFO --schemas DIR [--source S] [--dry-run]\n");
		return 2;
	}
	if (a.schemas != NULL && (s = cli_load_schemas(a.schemas)) == NULL)
		return 1;
	if ((c = pg_connect(a.db, "citylink-rejects", err, sizeof(err))) == NULL)
		goto fail;
	if (strcmp(argv[0], "replay") == 0) {
		st = store_connect(a.db, "citylink-rejects", err, sizeof(err));
		if (st == NULL || store_prepare(st, s, err, sizeof(err)) != 0)
			goto fail;
		rc = replay(st, c, &a, s);
	} else {
		rc = list(c, &a);
	}
	goto out;
fail:
	fprintf(stderr, "citylink: rejects: %s\n", err);
out:
	PQfinish(c);
	store_close(st);
	norm_schema_free(s);
	return rc;
}
