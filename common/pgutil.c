/* libpq helpers (see pgutil.h). */
#include "common/pgutil.h"

#include <stdio.h>
#include <string.h>

/* Copies msg into err as one line: newlines would split a log entry, and libpq ends its
 * messages with one. */
static void one_line(const char *msg, char *err, size_t errlen)
{
	size_t n;

	snprintf(err, errlen, "%s", msg != NULL && msg[0] != '\0' ? msg : "unknown error");
	for (char *p = err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	n = strlen(err);
	while (n > 0 && err[n - 1] == ' ')
		err[--n] = '\0';
}

void pg_error_text(PGconn *c, const PGresult *res, char *err, size_t errlen)
{
	if (res != NULL && PQresultErrorMessage(res)[0] != '\0')
		one_line(PQresultErrorMessage(res), err, errlen);
	else
		one_line(c != NULL ? PQerrorMessage(c) : NULL, err, errlen);
}

PGconn *pg_connect(const char *conninfo, const char *application_name, char *err, size_t errlen)
{
	const char *keys[] = {"dbname", "application_name", "client_encoding", "options", NULL};
	const char *values[] = {conninfo, application_name, "UTF8", "-c TimeZone=UTC -c client_min_messages=warning", NULL};
	PGconn *c;

	/* expand_dbname: conninfo's own keys win over nothing but are overridden by the
	 * later array entries, which are ours on purpose (the code relies on them). */
	c = PQconnectdbParams(keys, values, 1);
	if (c == NULL) {
		one_line("out of memory", err, errlen);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		pg_error_text(c, NULL, err, errlen);
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGresult *pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		   char *err, size_t errlen)
{
	PGresult *res;

	if (nparams == 0)
		res = PQexec(c, sql);
	else
		res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
			    PQresultStatus(res) == PGRES_TUPLES_OK))
		return res;
	pg_error_text(c, res, err, errlen);
	PQclear(res);
	return NULL;
}

int pg_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *res = pg_query(c, sql, 0, NULL, err, errlen);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int pg_is_down(PGconn *c)
{
	return c == NULL || PQstatus(c) != CONNECTION_OK;
}
