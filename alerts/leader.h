/*
 * One active citylink-alerts per rule set: a PostgreSQL session advisory lock, keyed by
 * the rule set's name and held on a connection of its own. PostgreSQL drops the lock when
 * that connection ends, so when the active instance dies (kill -9, a lost host) a standby
 * that keeps trying gets it within its retry interval.
 */
#ifndef CITYLINK_ALERTS_LEADER_H
#define CITYLINK_ALERTS_LEADER_H

#include <stddef.h>

struct leader;

/* A leader for ruleset over conninfo (both copied); not connected yet. Caller frees with
 * leader_free, which releases the lock by closing the connection. */
struct leader *leader_create(const char *conninfo, const char *ruleset);
void leader_free(struct leader *l);

/* Tries once to take the lock, connecting first if needed. 1 held now, 0 another
 * instance holds it, -1 the database could not be asked (err says why). */
int leader_try(struct leader *l, char *err, size_t errlen);

/* While held: 0 the lock connection still answers, -1 it was lost (err): another
 * instance may hold the lock by now, so this one must stop acting. */
int leader_check(struct leader *l, char *err, size_t errlen);

#endif
