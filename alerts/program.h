/*
 * Rule expressions flattened into postfix programs, all rules of a standard in one
 * contiguous array: with 1,000 rules the tree's scattered nodes cost a cache miss each,
 * the array streams. Numeric sub-expressions are shared terms (terms.h): a program only
 * compares and combines their values. Same three-valued semantics as eval.h (the tree stays the reference:
 * text comparisons run through it). Internal to the engine.
 */
#ifndef CITYLINK_PROGRAM_H
#define CITYLINK_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/eval.h"
#include "alerts/terms.h"

struct insn {
	uint8_t op;
	uint32_t field;                   /* a field, a term or a comparison's expr_kind */
	union {
		double k;                 /* a constant */
		const struct expr *node;  /* evaluated by the tree */
	} u;
};

struct program {
	struct insn *code;
	size_t n, cap;
};

/* Appends the code of x to p, its numeric sub-expressions interned in ts; *start is where
 * it begins. 0, or -1 on out of memory. */
int program_add(struct program *p, struct terms *ts, const struct expr *x, size_t *start,
		size_t *len);
void program_free(struct program *p);

/* Runs len instructions from code; c->terms holds the term values (terms_eval). */
enum tri program_run(const struct insn *code, size_t len, const struct eval_ctx *c);

#endif
