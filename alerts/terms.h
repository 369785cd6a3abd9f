/*
 * The distinct numeric sub-expressions ("terms") of a standard's rules, each evaluated
 * once per record whatever the number of rules using it: `abs(pm10 - pm25)` in 250 rules
 * is one subtraction and one abs per record, and `delta(co2, 10m)` one history lookup.
 * Subtrees are canonicalised at load (same operator, fields, windows and constants ->
 * one term). Unknown values (a missing field, delta/rate without history, division by
 * zero, a non-finite result) are NaN, as in program.h. Internal to the engine.
 */
#ifndef CITYLINK_TERMS_H
#define CITYLINK_TERMS_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/eval.h"
#include "normalizer/expr.h"

struct term {
	uint8_t op;               /* enum term_op (terms.c) */
	uint32_t a, b;            /* operand terms, always of lower index */
	uint32_t field;           /* FIELD, DELTA, RATE */
	int64_t window_ms;        /* DELTA, RATE */
	double k;                 /* a constant */
};

struct terms {
	struct term *t;
	double *val;              /* per term: its value for the last terms_eval */
	size_t n, cap;
	uint32_t *table;          /* open-addressing hash of terms: index + 1, 0 = free */
	size_t table_cap;
};

/* Whether x is a numeric expression that terms_intern takes (not a plain constant). */
int terms_is_term(const struct expr *x);

/* The term of numeric expression x (terms_is_term), added with its operands unless an
 * equal one exists: 0 and *id, or -1 on out of memory. */
int terms_intern(struct terms *ts, const struct expr *x, uint32_t *id);

/* 1 and *k when term id is a constant (also one folded from constants), else 0. */
int terms_constant(const struct terms *ts, uint32_t id, double *k);

/* Computes every term for the record in c into ts->val. */
void terms_eval(struct terms *ts, const struct eval_ctx *c);

void terms_free(struct terms *ts);

#endif
