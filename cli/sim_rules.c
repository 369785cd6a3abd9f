/* The simulator's view of the rules (see sim_rules.h). */
#include "cli/sim_rules.h"

#include <math.h>
#include <string.h>

#include "normalizer/expr.h"

/* A comparison of one field with a constant, the field on the left. */
struct leaf {
	size_t field;
	enum expr_kind op;
	double value;      /* number, boolean 0/1, or the enum value's index */
};

static int const_value(const struct norm_field *f, const struct expr *c, double *out)
{
	if (c->kind == EXPR_CONST_NUMBER || c->kind == EXPR_CONST_BOOLEAN) {
		*out = c->number;
		return 1;
	}
	if (c->kind != EXPR_CONST_TEXT || f->type != NORM_ENUM)
		return 0;
	for (size_t i = 0; i < f->n_values; i++) {
		if (strcmp(f->values[i], c->text) == 0) {
			*out = (double)i;
			return 1;
		}
	}
	return 0;
}

/* Whether e is a field-constant comparison; fills *l. */
static int as_leaf(const struct norm_standard *st, const struct expr *e, struct leaf *l)
{
	if (e->kind < EXPR_LT || e->kind > EXPR_NE || e->left == NULL || e->right == NULL)
		return 0;
	const struct expr *f = e->left, *c = e->right;
	l->op = e->kind;
	if (f->kind != EXPR_FIELD) {
		f = e->right;
		c = e->left;
		l->op = expr_mirror(e->kind);
	}
	if (f->kind != EXPR_FIELD || f->field >= st->n_fields)
		return 0;
	l->field = f->field;
	return const_value(&st->fields[f->field], c, &l->value);
}

static int holds(const struct leaf *l, const struct example_value *row)
{
	const struct example_value *v = &row[l->field];

	if (!v->set)
		return 0;
	switch (l->op) {
	case EXPR_LT: return v->number < l->value;
	case EXPR_LE: return v->number <= l->value;
	case EXPR_GT: return v->number > l->value;
	case EXPR_GE: return v->number >= l->value;
	case EXPR_EQ: return v->number == l->value;
	case EXPR_NE: return v->number != l->value;
	default: return 0;
	}
}

/* How far past a threshold to go: a tenth of it, at least 1% of the range (or 1). */
static double margin(const struct norm_field *f, double threshold)
{
	double m = fmax(fabs(threshold) * 0.1, f->has_range ? (f->max - f->min) * 0.01 : 1.0);
	return f->type == NORM_INTEGER ? ceil(fmax(m, 1.0)) : m;
}

static double clamp(const struct norm_field *f, double v)
{
	if (f->has_range)
		v = fmin(fmax(v, f->min), f->max);
	return f->type == NORM_INTEGER ? nearbyint(v) : v;
}

/* Sets the leaf's field so that the comparison comes out as `want` (1 or 0). */
static void set_leaf(const struct norm_standard *st, const struct leaf *l, int want, double noise,
		     struct example_value *row)
{
	const struct norm_field *f = &st->fields[l->field];
	struct example_value *v = &row[l->field];
	double m = margin(f, l->value) * (1 + noise);
	int up = l->op == EXPR_GT || l->op == EXPR_GE;
	int down = l->op == EXPR_LT || l->op == EXPR_LE;

	v->set = 1;
	if (f->type == NORM_BOOLEAN || f->type == NORM_ENUM) {
		int equal = (l->op == EXPR_EQ) == want;
		if (equal)
			v->number = l->value;
		else if (f->type == NORM_BOOLEAN)
			v->number = l->value == 0;
		else
			v->number = l->value == 0 && f->n_values > 1 ? 1 : 0;
		return;
	}
	if (up || down)
		v->number = clamp(f, l->value + ((up == want) ? m : -m));
	else if ((l->op == EXPR_EQ) == want)
		v->number = l->value;
	else
		v->number = clamp(f, l->value + m);
}

int sim_rule_triggerable(const struct norm_rule *rule)
{
	const struct expr *e = rule->when_expr;
	struct leaf l;

	while (e != NULL && (e->kind == EXPR_AND || e->kind == EXPR_OR)) {
		if (as_leaf(rule->standard, e->right, &l))
			return 1;
		e = e->left;
	}
	return e != NULL && as_leaf(rule->standard, e, &l);
}

static int eval(const struct norm_standard *st, const struct expr *e,
		const struct example_value *row)
{
	struct leaf l;
	int a, b;

	if (e == NULL)
		return -1;
	if (e->kind == EXPR_AND || e->kind == EXPR_OR) {
		a = eval(st, e->left, row);
		b = eval(st, e->right, row);
		if (e->kind == EXPR_AND)
			return a == 0 || b == 0 ? 0 : a == 1 && b == 1 ? 1 : -1;
		return a == 1 || b == 1 ? 1 : a == 0 && b == 0 ? 0 : -1;
	}
	if (!as_leaf(st, e, &l) || !row[l.field].set)
		return -1;
	return holds(&l, row);
}

int sim_rule_holds(const struct norm_rule *rule, const struct example_value *row)
{
	return eval(rule->standard, rule->when_expr, row);
}

/* `and` makes every comparison fire; `or` only needs its left branch. */
static void trigger(const struct norm_standard *st, const struct expr *e, struct example_value *row)
{
	struct leaf l;

	if (e == NULL)
		return;
	if (e->kind == EXPR_AND) {
		trigger(st, e->left, row);
		trigger(st, e->right, row);
	} else if (e->kind == EXPR_OR) {
		trigger(st, e->left, row);
	} else if (as_leaf(st, e, &l)) {
		set_leaf(st, &l, 1, 0.5, row);
	}
}

void sim_rule_trigger(const struct norm_rule *rule, struct example_value *row)
{
	trigger(rule->standard, rule->when_expr, row);
}

/* Quiets e if a comparison can; returns 1 when e is now false for sure. */
static int quiet(const struct norm_standard *st, const struct expr *e, struct example_value *row,
		 double noise)
{
	struct leaf l;

	if (e == NULL)
		return 0;
	if (e->kind == EXPR_OR) {
		int a = quiet(st, e->left, row, noise);
		int b = quiet(st, e->right, row, noise);
		return a && b;
	}
	if (e->kind == EXPR_AND) {
		/* Already false on the right: done; else try the right, then the left. */
		if (as_leaf(st, e->right, &l) && !holds(&l, row))
			return 1;
		if (quiet(st, e->right, row, noise))
			return 1;
		return quiet(st, e->left, row, noise);
	}
	if (!as_leaf(st, e, &l))
		return 0;
	if (holds(&l, row))
		set_leaf(st, &l, 0, noise, row);
	return 1;
}

void sim_rule_quiet(const struct norm_rule *rule, struct example_value *row, double noise)
{
	quiet(rule->standard, rule->when_expr, row, noise);
}
