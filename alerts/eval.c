/* Tree-walking evaluation of rule expressions (eval.h). */
#include <math.h>
#include <string.h>

#include "alerts/eval.h"

struct text {
	const char *s;
	size_t len;
};

static int eval_number(const struct expr *x, const struct eval_ctx *c, double *out);

static inline int field_number(const struct eval_ctx *c, size_t i, double *out)
{
	const struct norm_value *v = &c->values[i];
	if (!v->present)
		return 0;
	*out = c->integer[i] ? (double)v->integer : v->number;
	return 1;
}

/* delta(f, W): the record's value minus the reference W ago (history.h).
 * rate(f, P): change per P between the previous record carrying f and this one. */
int eval_window(int is_delta, size_t f, int64_t window_ms, const struct eval_ctx *c, double *out)
{
	double now, then;
	int64_t t;
	if (c->h == NULL || !field_number(c, f, &now))
		return 0;
	if (is_delta) {
		if (!history_reference(c->h, (size_t)c->watch[f], c->time_ms, window_ms, &then))
			return 0;
		*out = now - then;
		return 1;
	}
	if (!history_previous(c->h, (size_t)c->watch[f], &t, &then) || t >= c->time_ms)
		return 0;
	*out = (now - then) * (double)window_ms / (double)(c->time_ms - t);
	return isfinite(*out);
}

static int arithmetic(const struct expr *x, const struct eval_ctx *c, double *out)
{
	double a, b;
	if (!eval_number(x->left, c, &a) || !eval_number(x->right, c, &b))
		return 0;
	switch (x->kind) {
	case EXPR_ADD: *out = a + b; break;
	case EXPR_SUB: *out = a - b; break;
	case EXPR_MUL: *out = a * b; break;
	default:
		if (b == 0)
			return 0; /* x / 0 is unknown, not infinity */
		*out = a / b;
		break;
	}
	return isfinite(*out);
}

/* 1 and *out, or 0 when the value is unknown. */
static int eval_number(const struct expr *x, const struct eval_ctx *c, double *out)
{
	switch (x->kind) {
	case EXPR_CONST_NUMBER:
		*out = x->number;
		return 1;
	case EXPR_FIELD:
		return field_number(c, x->field, out);
	case EXPR_NEG:
		if (!eval_number(x->left, c, out))
			return 0;
		*out = -*out;
		return 1;
	case EXPR_ABS:
		if (!eval_number(x->left, c, out))
			return 0;
		*out = fabs(*out);
		return 1;
	case EXPR_DELTA:
	case EXPR_RATE:
		return eval_window(x->kind == EXPR_DELTA, x->field, x->window_ms, c, out);
	default:
		return arithmetic(x, c, out);
	}
}

static int eval_text(const struct expr *x, const struct eval_ctx *c, struct text *out)
{
	if (x->kind == EXPR_CONST_TEXT) {
		out->s = x->text;
		out->len = strlen(x->text);
		return 1;
	}
	const struct norm_value *v = &c->values[x->field];
	const struct norm_field *f = &c->st->fields[x->field];
	if (!v->present)
		return 0;
	if (f->type == NORM_ENUM) {
		out->s = f->values[v->enum_index];
		out->len = strlen(out->s);
	} else {
		out->s = v->text;
		out->len = v->text_len;
	}
	return 1;
}

/* -1, 0, 1 as a < b, a == b, a > b; 2 when unknown. */
static int order(const struct expr *x, const struct eval_ctx *c)
{
	if (x->left->type == EXPR_TEXT) {
		struct text a, b;
		if (!eval_text(x->left, c, &a) || !eval_text(x->right, c, &b))
			return 2;
		int d = memcmp(a.s, b.s, a.len < b.len ? a.len : b.len);
		if (d == 0)
			d = a.len < b.len ? -1 : a.len > b.len;
		return d < 0 ? -1 : d > 0;
	}
	enum tri a = eval_condition(x->left, c), b = eval_condition(x->right, c);
	if (a == TRI_UNKNOWN || b == TRI_UNKNOWN)
		return 2;
	return (int)a - (int)b;
}

static enum tri compare(const struct expr *x, const struct eval_ctx *c)
{
	if (x->left->type == EXPR_NUMBER) {
		/* the common case, without the detour through order() */
		double a, b;
		if (!eval_number(x->left, c, &a) || !eval_number(x->right, c, &b))
			return TRI_UNKNOWN;
		return eval_compare(x->kind, a, b);
	}
	int o = order(x, c);
	if (o == 2)
		return TRI_UNKNOWN;
	switch (x->kind) {
	case EXPR_LT: return o < 0;
	case EXPR_LE: return o <= 0;
	case EXPR_GT: return o > 0;
	case EXPR_GE: return o >= 0;
	case EXPR_EQ: return o == 0;
	default: return o != 0;
	}
}

enum tri eval_condition(const struct expr *x, const struct eval_ctx *c)
{
	enum tri a;
	switch (x->kind) {
	case EXPR_CONST_BOOLEAN:
		return x->number != 0;
	case EXPR_FIELD:
		if (!c->values[x->field].present)
			return TRI_UNKNOWN;
		return c->values[x->field].boolean != 0;
	case EXPR_NOT:
		return tri_not(eval_condition(x->left, c));
	case EXPR_AND:
		if ((a = eval_condition(x->left, c)) == TRI_FALSE)
			return TRI_FALSE;
		enum tri b = eval_condition(x->right, c);
		return b == TRI_FALSE ? TRI_FALSE : a == TRI_TRUE && b == TRI_TRUE ? TRI_TRUE : TRI_UNKNOWN;
	case EXPR_OR:
		if ((a = eval_condition(x->left, c)) == TRI_TRUE)
			return TRI_TRUE;
		enum tri r = eval_condition(x->right, c);
		return r == TRI_TRUE ? TRI_TRUE : a == TRI_FALSE && r == TRI_FALSE ? TRI_FALSE : TRI_UNKNOWN;
	default:
		return compare(x, c);
	}
}
