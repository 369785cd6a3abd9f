/* The active-instance lock (see leader.h). */
#include "alerts/leader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pgutil.h"
#include "common/xmalloc.h"

struct leader {
	char *conninfo, *ruleset;
	PGconn *conn;
	int held;
};

struct leader *leader_create(const char *conninfo, const char *ruleset)
{
	struct leader *l = xcalloc(1, sizeof(*l));

	l->conninfo = xstrdup(conninfo);
	l->ruleset = xstrdup(ruleset);
	return l;
}

void leader_free(struct leader *l)
{
	if (l == NULL)
		return;
	PQfinish(l->conn);
	free(l->conninfo);
	free(l->ruleset);
	free(l);
}

int leader_try(struct leader *l, char *err, size_t errlen)
{
	/* hashtext gives the lock key; the prefix keeps it apart from other advisory locks. */
	static const char sql[] =
		"SELECT pg_try_advisory_lock(hashtext('citylink-alerts ruleset ' || $1))";
	const char *params[] = {l->ruleset};
	PGresult *res;

	if (l->held)
		return 1;
	if (l->conn != NULL && pg_is_down(l->conn)) {
		PQfinish(l->conn);
		l->conn = NULL;
	}
	if (l->conn == NULL &&
	    (l->conn = pg_connect(l->conninfo, "citylink-alerts-lock", err, errlen)) == NULL)
		return -1;
	if ((res = pg_query(l->conn, sql, 1, params, err, errlen)) == NULL)
		return -1;
	l->held = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return l->held;
}

int leader_check(struct leader *l, char *err, size_t errlen)
{
	PGresult *res;

	if (!l->held) {
		snprintf(err, errlen, "the lock is not held");
		return -1;
	}
	if ((res = pg_query(l->conn, "SELECT 1", 0, NULL, err, errlen)) == NULL) {
		l->held = 0;
		return -1;
	}
	PQclear(res);
	return 0;
}
