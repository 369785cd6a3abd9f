/* Postfix rule programs (program.h). Unknown numbers travel as NaN: record values are
 * finite and non-finite results are turned into NaN, so NaN means "unknown" only. */
#include <math.h>
#include <stdlib.h>

#include "alerts/program.h"

enum op {
	OP_NUM, OP_FIELD, OP_DELTA, OP_RATE, OP_NEG, OP_ABS, OP_ADD, OP_SUB, OP_MUL, OP_DIV,
	OP_CMP /* field: the expr_kind */, OP_NOT, OP_AND, OP_OR, OP_TREE,
};

/* Deeper expressions than this run on the tree (eval.c) instead. */
#define STACK_MAX 32

static int emit(struct program *p, enum op op, size_t field, double k, const struct expr *node)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct insn *grown = realloc(p->code, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		p->code = grown;
		p->cap = cap;
	}
	struct insn *i = &p->code[p->n++];
	i->op = (uint8_t)op;
	i->field = (uint32_t)field;
	if (node != NULL)
		i->u.node = node;
	else
		i->u.k = k;
	return 0;
}

static int depth(const struct expr *x)
{
	if (x == NULL)
		return 0;
	int l = depth(x->left), r = depth(x->right);
	return 1 + (l > r ? l : r);
}

static int compile(struct program *p, const struct expr *x)
{
	static const enum op binary[] = {
		[EXPR_AND] = OP_AND, [EXPR_OR] = OP_OR, [EXPR_ADD] = OP_ADD, [EXPR_SUB] = OP_SUB,
		[EXPR_MUL] = OP_MUL, [EXPR_DIV] = OP_DIV, [EXPR_LT] = OP_CMP, [EXPR_LE] = OP_CMP,
		[EXPR_GT] = OP_CMP, [EXPR_GE] = OP_CMP, [EXPR_EQ] = OP_CMP, [EXPR_NE] = OP_CMP};

	switch (x->kind) {
	case EXPR_CONST_NUMBER:
	case EXPR_CONST_BOOLEAN:
		return emit(p, OP_NUM, 0, x->number, NULL);
	case EXPR_FIELD:
		if (x->type == EXPR_TEXT)
			break;
		return emit(p, OP_FIELD, x->field, 0, NULL);
	case EXPR_DELTA:
	case EXPR_RATE:
		return emit(p, x->kind == EXPR_DELTA ? OP_DELTA : OP_RATE, x->field,
			    (double)x->window_ms, NULL);
	case EXPR_NEG:
	case EXPR_ABS:
	case EXPR_NOT:
		if (compile(p, x->left) < 0)
			return -1;
		return emit(p, x->kind == EXPR_NEG ? OP_NEG : x->kind == EXPR_ABS ? OP_ABS : OP_NOT,
			    0, 0, NULL);
	default:
		/* text and boolean comparisons: the tree knows them */
		if ((x->kind >= EXPR_LT && x->left->type != EXPR_NUMBER) || x->kind == EXPR_CONST_TEXT)
			break;
		if (compile(p, x->left) < 0 || compile(p, x->right) < 0)
			return -1;
		return emit(p, binary[x->kind], x->kind, 0, NULL);
	}
	return emit(p, OP_TREE, 0, 0, x);
}

int program_add(struct program *p, const struct expr *x, size_t *start, size_t *len)
{
	*start = p->n;
	if (depth(x) >= STACK_MAX)
		return emit(p, OP_TREE, 0, 0, x) < 0 ? -1 : (*len = 1, 0);
	if (compile(p, x) < 0)
		return -1;
	*len = p->n - *start;
	return 0;
}

void program_free(struct program *p)
{
	free(p->code);
	p->code = NULL;
	p->n = p->cap = 0;
}

static double tri_and(double a, double b)
{
	return a == TRI_FALSE || b == TRI_FALSE ? TRI_FALSE
	       : a == TRI_TRUE && b == TRI_TRUE ? TRI_TRUE : TRI_UNKNOWN;
}

static double tri_or(double a, double b)
{
	return a == TRI_TRUE || b == TRI_TRUE ? TRI_TRUE
	       : a == TRI_FALSE && b == TRI_FALSE ? TRI_FALSE : TRI_UNKNOWN;
}

/* A comparison of two numbers, NaN being unknown. */
static double cmp(enum expr_kind op, double a, double b)
{
	return isnan(a) || isnan(b) ? TRI_UNKNOWN : eval_compare(op, a, b);
}

static double arith(enum op op, double a, double b)
{
	double r = op == OP_ADD ? a + b : op == OP_SUB ? a - b : op == OP_MUL ? a * b
		 : b == 0 ? NAN : a / b;
	return isfinite(r) ? r : NAN;
}

/* A field as the program sees it: booleans as 0/1 (tri), numbers as they are. */
static double field(const struct eval_ctx *c, uint32_t f)
{
	const struct norm_value *v = &c->values[f];
	if (!v->present)
		return c->boolean[f] ? TRI_UNKNOWN : NAN;
	return c->boolean[f] ? (double)(v->boolean != 0) : c->integer[f] ? (double)v->integer : v->number;
}

enum tri program_run(const struct insn *code, size_t len, const struct eval_ctx *c)
{
	/* The top of the stack stays in a register: through memory, each step would wait
	 * for the store of the one before. */
	double st[STACK_MAX], top = 0, x;
	int sp = 0;

	for (size_t i = 0; i < len; i++) {
		const struct insn *in = &code[i];
		switch ((enum op)in->op) {
		case OP_NUM: st[sp++] = top; top = in->u.k; break;
		case OP_FIELD: st[sp++] = top; top = field(c, in->field); break;
		case OP_DELTA:
		case OP_RATE:
			st[sp++] = top;
			top = eval_window(in->op == OP_DELTA, in->field, (int64_t)in->u.k, c, &x) ? x : NAN;
			break;
		case OP_TREE: st[sp++] = top; top = eval_condition(in->u.node, c); break;
		case OP_NEG: top = -top; break;
		case OP_ABS: top = fabs(top); break;
		case OP_NOT: top = tri_not((enum tri)top); break;
		case OP_AND: top = tri_and(st[--sp], top); break;
		case OP_OR: top = tri_or(st[--sp], top); break;
		case OP_ADD:
		case OP_SUB:
		case OP_MUL:
		case OP_DIV: top = arith((enum op)in->op, st[--sp], top); break;
		case OP_CMP: top = cmp((enum expr_kind)in->field, st[--sp], top); break;
		}
	}
	return (enum tri)top;
}
