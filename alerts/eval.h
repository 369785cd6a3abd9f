/*
 * Evaluating a parsed rule expression (normalizer/expr.h) over one record, in
 * three-valued logic: a comparison with a missing operand is unknown (docs/rules.md).
 * Internal to the engine.
 */
#ifndef CITYLINK_EVAL_H
#define CITYLINK_EVAL_H

#include <stdint.h>

#include "alerts/history.h"
#include "normalizer/expr.h"
#include "normalizer/normalize.h"

enum tri { TRI_FALSE = 0, TRI_TRUE = 1, TRI_UNKNOWN = 2 };

struct eval_ctx {
	const struct norm_standard *st;
	const struct norm_value *values;  /* the record's, one per field */
	int64_t time_ms;                  /* the record's time */
	const struct history *h;          /* earlier records, NULL = none usable */
	const int *watch;                 /* field index -> history column, -1 = not kept */
	const unsigned char *integer;     /* field index -> 1 when NORM_INTEGER */
	const unsigned char *boolean;     /* field index -> 1 when NORM_BOOLEAN */
	const double *terms;              /* the record's term values (terms.h), for programs */
};

enum tri eval_condition(const struct expr *x, const struct eval_ctx *c);

/* delta (is_delta) or rate of field f over window_ms for the record in c: 1 and *out,
 * or 0 when unknown (no usable history, field missing). */
int eval_window(int is_delta, size_t f, int64_t window_ms, const struct eval_ctx *c, double *out);

/* a OP b for a comparison kind (EXPR_LT .. EXPR_NE) of two known numbers. */
static inline enum tri eval_compare(enum expr_kind op, double a, double b)
{
	switch (op) {
	case EXPR_LT: return a < b;
	case EXPR_LE: return a <= b;
	case EXPR_GT: return a > b;
	case EXPR_GE: return a >= b;
	case EXPR_EQ: return a == b;
	default: return a != b;
	}
}

/* not, in three-valued logic: unknown stays unknown. */
static inline enum tri tri_not(enum tri t)
{
	return t == TRI_UNKNOWN ? TRI_UNKNOWN : t == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
}

#endif
