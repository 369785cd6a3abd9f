/*
 * Small libpq helpers shared by the daemons and the tool: connect, run a statement and
 * check its status, and turn libpq's multi-line messages into one log-safe line.
 */
#ifndef CITYLINK_PGUTIL_H
#define CITYLINK_PGUTIL_H

#include <stddef.h>

#include <libpq-fe.h>

/*
 * Connects with conninfo (a "key=value ..." string or a postgresql:// URI), sets the
 * client encoding to UTF8 and the time zone to UTC. Returns the connection (caller
 * closes with PQfinish), or NULL with the reason in err.
 */
PGconn *pg_connect(const char *conninfo, const char *application_name, char *err, size_t errlen);

/* Runs sql (several statements allowed when params are none). 0, or -1 with the
 * server's message in err. */
int pg_exec(PGconn *c, const char *sql, char *err, size_t errlen);

/* Runs sql with text parameters and returns its result when the status is COMMAND_OK or
 * TUPLES_OK (caller PQclears it), else NULL with the message in err. */
PGresult *pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		   char *err, size_t errlen);

/* The connection's (or result's, when res is not NULL) last error as one line. */
void pg_error_text(PGconn *c, const PGresult *res, char *err, size_t errlen);

/* 1 if the connection is gone (the caller should reconnect), 0 if it still works. */
int pg_is_down(PGconn *c);

#endif
