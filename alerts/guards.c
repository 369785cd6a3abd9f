/* Rules indexed by their guard's constant (guards.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/guards.h"

struct guard_entry {
	uint32_t term;
	uint8_t op;
	double k;
	uint32_t rule;
};

int guards_init(struct guards *gs, size_t n_rules)
{
	memset(gs, 0, sizeof(*gs));
	gs->n_rules = n_rules;
	gs->words = (n_rules + 63) / 64;
	gs->always = calloc(gs->words ? gs->words : 1, sizeof(*gs->always));
	gs->pending = calloc(n_rules ? n_rules : 1, sizeof(*gs->pending));
	return gs->always != NULL && gs->pending != NULL ? 0 : -1;
}

/* One side of a comparison: 1 and *k for a constant (also a folded one: `-5`,
 * `2 * 50`), 0 and *id for a variable term, -1 on out of memory. */
static int side(struct terms *ts, const struct expr *x, uint32_t *id, double *k)
{
	if (x->kind == EXPR_CONST_NUMBER) {
		*k = x->number;
		return 1;
	}
	if (terms_intern(ts, x, id) < 0)
		return -1;
	return terms_constant(ts, *id, k);
}

/* A guard of x into e: 1 when found, 0 when none, -1 on out of memory. */
static int find(struct terms *ts, const struct expr *x, struct guard_entry *e)
{
	uint32_t l = 0, r = 0;
	double lk = 0, rk = 0;
	int rc;

	if (x->kind == EXPR_AND)
		return (rc = find(ts, x->left, e)) != 0 ? rc : find(ts, x->right, e);
	if (x->kind < EXPR_LT || x->kind > EXPR_NE || x->left->type != EXPR_NUMBER)
		return 0;
	int a = side(ts, x->left, &l, &lk), b = side(ts, x->right, &r, &rk);
	if (a < 0 || b < 0)
		return -1;
	if (a == b)
		return 0; /* two variables, or two constants */
	e->term = a ? r : l;
	e->k = a ? lk : rk;
	e->op = (uint8_t)(a ? expr_mirror(x->kind) : x->kind); /* k op x is x op' k */
	/* a NaN constant would break the order: such a rule (never true) is always visited */
	return !isnan(e->k);
}

int guards_add(struct guards *gs, struct terms *ts, size_t i, const struct expr *when)
{
	struct guard_entry e;
	int rc = when != NULL ? find(ts, when, &e) : 0;
	if (rc < 0)
		return -1;
	if (rc == 0) {
		gs->always[i / 64] |= (uint64_t)1 << (i % 64);
		return 0;
	}
	e.rule = (uint32_t)i;
	gs->pending[gs->n_pending++] = e;
	return 0;
}

static int entry_order(const void *pa, const void *pb)
{
	const struct guard_entry *a = pa, *b = pb;
	if (a->term != b->term)
		return a->term < b->term ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static int same_group(const struct guard_entry *a, const struct guard_entry *b)
{
	return a->term == b->term && a->op == b->op;
}

/* Group g from the n sorted entries at e. 0 or -1. */
static int group_init(struct guard_group *g, const struct guard_entry *e, size_t n)
{
	*g = (struct guard_group){.term = e->term, .op = e->op, .n = n};
	g->k = malloc(n * sizeof(*g->k));
	g->rule = malloc(n * sizeof(*g->rule));
	if (g->k == NULL || g->rule == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		g->k[i] = e[i].k;
		g->rule[i] = e[i].rule;
	}
	return 0;
}

int guards_finish(struct guards *gs)
{
	size_t n = gs->n_pending, groups = 0;
	struct guard_entry *e = gs->pending;

	qsort(e, n, sizeof(*e), entry_order);
	for (size_t i = 0; i < n; i++)
		groups += i == 0 || !same_group(&e[i - 1], &e[i]);
	gs->g = calloc(groups ? groups : 1, sizeof(*gs->g));
	if (gs->g == NULL)
		return -1;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && same_group(&e[i], &e[j]); j++)
			;
		if (group_init(&gs->g[gs->n_groups++], &e[i], j - i) < 0)
			return -1;
	}
	free(gs->pending);
	gs->pending = NULL;
	gs->n_pending = 0;
	return 0;
}

/* The first index whose k is >= v (strict = 0) or > v (strict = 1). */
static size_t bound(const struct guard_group *g, double v, int strict)
{
	size_t lo = 0, hi = g->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strict ? g->k[mid] <= v : g->k[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void mark(const struct guard_group *g, size_t from, size_t to, uint64_t *out)
{
	for (size_t i = from; i < to; i++)
		out[g->rule[i] / 64] |= (uint64_t)1 << (g->rule[i] % 64);
}

void guards_select(const struct guards *gs, const double *vals, uint64_t *out)
{
	memcpy(out, gs->always, gs->words * sizeof(*out));
	for (size_t i = 0; i < gs->n_groups; i++) {
		const struct guard_group *g = &gs->g[i];
		double v = vals[g->term];
		if (isnan(v))
			continue;
		/* [0, lo) have k < v, [lo, hi) k == v, [hi, n) k > v */
		size_t lo = bound(g, v, 0), hi = bound(g, v, 1);
		switch ((enum expr_kind)g->op) {
		case EXPR_GT: mark(g, 0, lo, out); break;
		case EXPR_GE: mark(g, 0, hi, out); break;
		case EXPR_LT: mark(g, hi, g->n, out); break;
		case EXPR_LE: mark(g, lo, g->n, out); break;
		case EXPR_EQ: mark(g, lo, hi, out); break;
		default: mark(g, 0, lo, out), mark(g, hi, g->n, out); break;
		}
	}
}

void guards_free(struct guards *gs)
{
	for (size_t i = 0; i < gs->n_groups; i++) {
		free(gs->g[i].k);
		free(gs->g[i].rule);
	}
	free(gs->g);
	free(gs->always);
	free(gs->pending);
	memset(gs, 0, sizeof(*gs));
}

/* The 8-bit mask of the nonzero bytes of w, byte 0 (the lowest address) in bit 0. */
static unsigned nonzero_bytes(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
	/* bit 7 of each byte: set when the byte is not 0 (no carry crosses a byte) */
	uint64_t top = (((w & low7) + low7) | w) & ~low7;
	/* moves byte k's flag to bit 56 + k; the products never overlap, so no carries */
	return (unsigned)(((top >> 7) * 0x0102040810204080u) >> 56);
#else
	unsigned char b[8];
	unsigned m = 0;
	memcpy(b, &w, sizeof(b));
	for (int k = 0; k < 8; k++)
		m |= (unsigned)(b[k] != 0) << k;
	return m;
#endif
}

void guards_mark_nonzero(const unsigned char *state, size_t n, uint64_t *out)
{
	size_t i = 0;
	/* eight state bytes at a time, into eight bits of one word (i is a multiple of 8) */
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, state + i, sizeof(w));
		if (w != 0)
			out[i / 64] |= (uint64_t)nonzero_bytes(w) << (i % 64);
	}
	for (; i < n; i++)
		if (state[i] != 0)
			out[i / 64] |= (uint64_t)1 << (i % 64);
}
