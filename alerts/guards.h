/*
 * Which rules of a standard can change on a record, without visiting the others.
 * Most rules have a guard: a comparison `term op k` of a numeric term (terms.h) with a
 * constant that their `when` implies (the whole condition, or either side of an `and`).
 * An idle rule whose guard is not true cannot raise or start a `for:`, so it need not be
 * looked at. Guards are grouped by (term, op) and sorted by k: the rules whose guard holds
 * for a value v form one or two ranges found by binary search, so 250 rules of
 * `abs(pm10 - pm25) > k` cost one search when none holds. Rules without a guard (an `or`,
 * a text comparison, a silence) are always visited. Internal to the engine.
 */
#ifndef CITYLINK_GUARDS_H
#define CITYLINK_GUARDS_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/terms.h"
#include "normalizer/expr.h"

struct guard_group {
	uint32_t term;
	uint8_t op;               /* enum expr_kind, EXPR_LT .. EXPR_NE */
	size_t n;
	double *k;                /* ascending */
	uint32_t *rule;           /* rule index of each k */
};

struct guards {
	size_t n_rules, words;    /* words: 64-rule words of a rule set */
	uint64_t *always;         /* rules without a guard */
	struct guard_group *g;
	size_t n_groups;
	struct guard_entry *pending; /* while building */
	size_t n_pending;
};

/* Starts an empty index for n_rules rules. 0 or -1 on out of memory. */
int guards_init(struct guards *gs, size_t n_rules);

/* Takes rule i's condition (NULL: none, always visited), interning its guard term in ts.
 * Rules are added in order, each once. 0 or -1 on out of memory. */
int guards_add(struct guards *gs, struct terms *ts, size_t i, const struct expr *when);

/* Builds the index once every rule is added. 0 or -1 on out of memory. */
int guards_finish(struct guards *gs);

/* Sets in out (words long) the rules that are always visited and those whose guard is
 * true for the term values vals (NaN: unknown, no guard holds). */
void guards_select(const struct guards *gs, const double *vals, uint64_t *out);

void guards_free(struct guards *gs);

/* Sets in out the bit of every rule whose state byte (n of them) is not 0. */
void guards_mark_nonzero(const unsigned char *state, size_t n, uint64_t *out);

#endif
