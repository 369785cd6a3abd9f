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
};

enum tri eval_condition(const struct expr *x, const struct eval_ctx *c);

/* not, in three-valued logic: unknown stays unknown. */
static inline enum tri tri_not(enum tri t)
{
	return t == TRI_UNKNOWN ? TRI_UNKNOWN : t == TRI_TRUE ? TRI_FALSE : TRI_TRUE;
}

#endif
