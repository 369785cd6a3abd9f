/*
 * Rule expressions (`when:` and `clear:`): parsed once at load into a typed tree and
 * checked against the rule's standard, so an unknown field, a boolean compared with a
 * number or an enum compared with a value it does not have is a load error, never a
 * surprise at 3 a.m. The alerts daemon evaluates the tree.
 *
 *   or-expr   := and-expr ('or' and-expr)*
 *   and-expr  := not-expr ('and' not-expr)*
 *   not-expr  := 'not' not-expr | compare
 *   compare   := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
 *   sum       := product (('+' | '-') product)*
 *   product   := unary (('*' | '/') unary)*
 *   unary     := '-' unary | primary
 *   primary   := NUMBER | 'text' | "text" | true | false | FIELD | '(' or-expr ')'
 *              | abs(sum) | delta(FIELD, DURATION) | rate(FIELD, DURATION)
 */
#ifndef CITYLINK_EXPR_H
#define CITYLINK_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/model.h"

enum expr_type { EXPR_NUMBER, EXPR_BOOLEAN, EXPR_TEXT };

enum expr_kind {
	EXPR_CONST_NUMBER, EXPR_CONST_BOOLEAN, EXPR_CONST_TEXT, EXPR_FIELD,
	EXPR_NEG, EXPR_NOT, EXPR_AND, EXPR_OR,
	EXPR_ADD, EXPR_SUB, EXPR_MUL, EXPR_DIV,
	EXPR_LT, EXPR_LE, EXPR_GT, EXPR_GE, EXPR_EQ, EXPR_NE,
	EXPR_ABS, EXPR_DELTA, EXPR_RATE,
};

/* A node of the tree; read-only once parsed. */
struct expr {
	enum expr_kind kind;
	enum expr_type type;
	double number;            /* CONST_NUMBER, CONST_BOOLEAN (0/1) */
	char *text;               /* CONST_TEXT */
	size_t field;             /* FIELD, DELTA, RATE: index into the standard's fields */
	int64_t window_ms;        /* DELTA, RATE */
	struct expr *left, *right; /* operands; unary nodes use left */
};

/*
 * Parses text as a condition (it must be boolean) over standard st. Returns 0 and *out
 * (caller frees with expr_free), -1 with a message in err and the 0-based character
 * offset of the problem in *at, or -2 on out of memory.
 */
int expr_parse(const char *text, const struct norm_standard *st, struct expr **out, char *err,
	       size_t errlen, size_t *at);

void expr_free(struct expr *e);

/* The comparison that means the same with its operands swapped (a < b is b > a); any
 * other kind as it is. */
enum expr_kind expr_mirror(enum expr_kind op);

#endif
