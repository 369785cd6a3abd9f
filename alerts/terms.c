/* Shared numeric sub-expressions of a standard's rules (terms.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/terms.h"

enum term_op {
	TERM_NUM, TERM_FIELD, TERM_DELTA, TERM_RATE, TERM_NEG, TERM_ABS,
	TERM_ADD, TERM_SUB, TERM_MUL, TERM_DIV,
};

int terms_is_term(const struct expr *x)
{
	return x->type == EXPR_NUMBER && x->kind != EXPR_CONST_NUMBER;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
	return h;
}

static uint64_t term_hash(const struct term *t)
{
	uint64_t k;
	memcpy(&k, &t->k, sizeof(k));
	uint64_t h = mix(mix(mix(t->op, t->a), t->b), t->field);
	return mix(mix(h, (uint64_t)t->window_ms), k);
}

/* Constants compare by bit pattern: 0 and -0 divide differently. */
static int term_equal(const struct term *x, const struct term *y)
{
	return x->op == y->op && x->a == y->a && x->b == y->b && x->field == y->field &&
	       x->window_ms == y->window_ms && memcmp(&x->k, &y->k, sizeof(x->k)) == 0;
}

/* The slot of t in the table: where it is, or the free one where it goes. */
static uint32_t *find_slot(const struct terms *ts, const struct term *t)
{
	size_t mask = ts->table_cap - 1;
	for (size_t i = (size_t)term_hash(t) & mask;; i = (i + 1) & mask) {
		uint32_t *s = &ts->table[i];
		if (*s == 0 || term_equal(&ts->t[*s - 1], t))
			return s;
	}
}

/* Keeps the table at most half full. 0 or -1. */
static int grow_table(struct terms *ts)
{
	if (2 * (ts->n + 1) <= ts->table_cap)
		return 0;
	size_t cap = ts->table_cap ? ts->table_cap * 2 : 64;
	uint32_t *table = calloc(cap, sizeof(*table));
	if (table == NULL)
		return -1;
	free(ts->table);
	ts->table = table;
	ts->table_cap = cap;
	for (size_t i = 0; i < ts->n; i++)
		*find_slot(ts, &ts->t[i]) = (uint32_t)(i + 1);
	return 0;
}

static int grow_terms(struct terms *ts)
{
	if (ts->n < ts->cap)
		return 0;
	size_t cap = ts->cap ? ts->cap * 2 : 32;
	struct term *t = realloc(ts->t, cap * sizeof(*t));
	if (t == NULL)
		return -1;
	ts->t = t;
	double *val = realloc(ts->val, cap * sizeof(*val));
	if (val == NULL)
		return -1;
	ts->val = val;
	ts->cap = cap;
	return 0;
}

static int add(struct terms *ts, const struct term *t, uint32_t *id)
{
	if (grow_table(ts) < 0 || grow_terms(ts) < 0)
		return -1;
	uint32_t *s = find_slot(ts, t);
	if (*s == 0) {
		ts->t[ts->n] = *t;
		ts->val[ts->n] = t->op == TERM_NUM ? t->k : NAN;
		*s = (uint32_t)++ts->n;
	}
	*id = *s - 1;
	return 0;
}

static double arith(enum term_op op, double a, double b)
{
	double r = op == TERM_ADD ? a + b : op == TERM_SUB ? a - b : op == TERM_MUL ? a * b
		 : b == 0 ? NAN : a / b;
	return isfinite(r) ? r : NAN;
}

/* An operation on constants is a constant: `pm25 > -5` then has a guard with k = -5. */
static void fold(const struct terms *ts, struct term *t)
{
	const struct term *a = &ts->t[t->a], *b = &ts->t[t->b];
	if (t->op < TERM_NEG || a->op != TERM_NUM || (t->op >= TERM_ADD && b->op != TERM_NUM))
		return;
	double k = t->op == TERM_NEG ? -a->k : t->op == TERM_ABS ? fabs(a->k)
		 : arith((enum term_op)t->op, a->k, b->k);
	*t = (struct term){.op = TERM_NUM, .k = k};
}

int terms_intern(struct terms *ts, const struct expr *x, uint32_t *id)
{
	static const enum term_op ops[] = {
		[EXPR_CONST_NUMBER] = TERM_NUM, [EXPR_FIELD] = TERM_FIELD, [EXPR_DELTA] = TERM_DELTA,
		[EXPR_RATE] = TERM_RATE, [EXPR_NEG] = TERM_NEG, [EXPR_ABS] = TERM_ABS,
		[EXPR_ADD] = TERM_ADD, [EXPR_SUB] = TERM_SUB, [EXPR_MUL] = TERM_MUL,
		[EXPR_DIV] = TERM_DIV};
	struct term t = {.op = (uint8_t)ops[x->kind]};

	switch (x->kind) {
	case EXPR_CONST_NUMBER:
		t.k = x->number;
		break;
	case EXPR_FIELD:
	case EXPR_DELTA:
	case EXPR_RATE:
		t.field = (uint32_t)x->field;
		t.window_ms = x->window_ms;
		break;
	default:
		if (terms_intern(ts, x->left, &t.a) < 0 ||
		    (x->right != NULL && terms_intern(ts, x->right, &t.b) < 0))
			return -1;
		/* IEEE addition and multiplication are exactly commutative */
		if ((t.op == TERM_ADD || t.op == TERM_MUL) && t.a > t.b) {
			uint32_t swap = t.a;
			t.a = t.b;
			t.b = swap;
		}
		fold(ts, &t);
		break;
	}
	return add(ts, &t, id);
}

int terms_constant(const struct terms *ts, uint32_t id, double *k)
{
	if (ts->t[id].op != TERM_NUM)
		return 0;
	*k = ts->t[id].k;
	return 1;
}

static double field_value(const struct eval_ctx *c, uint32_t f)
{
	const struct norm_value *v = &c->values[f];
	if (!v->present)
		return NAN;
	return c->integer[f] ? (double)v->integer : v->number;
}

void terms_eval(struct terms *ts, const struct eval_ctx *c)
{
	double *v = ts->val, x;

	for (size_t i = 0; i < ts->n; i++) {
		const struct term *t = &ts->t[i];
		switch ((enum term_op)t->op) {
		case TERM_NUM: continue;
		case TERM_FIELD: x = field_value(c, t->field); break;
		case TERM_DELTA:
		case TERM_RATE:
			if (!eval_window(t->op == TERM_DELTA, t->field, t->window_ms, c, &x))
				x = NAN;
			break;
		case TERM_NEG: x = -v[t->a]; break;
		case TERM_ABS: x = fabs(v[t->a]); break;
		default: x = arith((enum term_op)t->op, v[t->a], v[t->b]); break;
		}
		v[i] = x;
	}
}

void terms_free(struct terms *ts)
{
	free(ts->t);
	free(ts->val);
	free(ts->table);
	memset(ts, 0, sizeof(*ts));
}
