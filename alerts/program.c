/* Postfix rule programs (program.h). Numbers are terms (terms.h), computed before the
 * programs run; an unknown number is NaN. */
#include <math.h>
#include <stdlib.h>

#include "alerts/program.h"

enum op {
	OP_NUM, OP_BOOL_FIELD, OP_TERM, OP_CMP /* field: the expr_kind */, OP_NOT, OP_AND, OP_OR,
	OP_TREE,
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

static int compile(struct program *p, struct terms *ts, const struct expr *x)
{
	uint32_t id;

	if (terms_is_term(x))
		return terms_intern(ts, x, &id) < 0 ? -1 : emit(p, OP_TERM, id, 0, NULL);
	switch (x->kind) {
	case EXPR_CONST_NUMBER:
	case EXPR_CONST_BOOLEAN:
		return emit(p, OP_NUM, 0, x->number, NULL);
	case EXPR_FIELD:
		if (x->type == EXPR_TEXT)
			break;
		return emit(p, OP_BOOL_FIELD, x->field, 0, NULL);
	case EXPR_NOT:
		return compile(p, ts, x->left) < 0 ? -1 : emit(p, OP_NOT, 0, 0, NULL);
	case EXPR_AND:
	case EXPR_OR:
		if (compile(p, ts, x->left) < 0 || compile(p, ts, x->right) < 0)
			return -1;
		return emit(p, x->kind == EXPR_AND ? OP_AND : OP_OR, 0, 0, NULL);
	default:
		/* text and boolean comparisons: the tree knows them */
		if (x->kind < EXPR_LT || x->kind > EXPR_NE || x->left->type != EXPR_NUMBER)
			break;
		if (compile(p, ts, x->left) < 0 || compile(p, ts, x->right) < 0)
			return -1;
		return emit(p, OP_CMP, x->kind, 0, NULL);
	}
	return emit(p, OP_TREE, 0, 0, x);
}

int program_add(struct program *p, struct terms *ts, const struct expr *x, size_t *start,
		size_t *len)
{
	*start = p->n;
	if (depth(x) >= STACK_MAX)
		return emit(p, OP_TREE, 0, 0, x) < 0 ? -1 : (*len = 1, 0);
	if (compile(p, ts, x) < 0)
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

/* A boolean field as the program sees it: 0/1, or unknown when absent. */
static double bool_field(const struct eval_ctx *c, uint32_t f)
{
	const struct norm_value *v = &c->values[f];
	return v->present ? (double)(v->boolean != 0) : TRI_UNKNOWN;
}

enum tri program_run(const struct insn *code, size_t len, const struct eval_ctx *c)
{
	/* The top of the stack stays in a register: through memory, each step would wait
	 * for the store of the one before. */
	double st[STACK_MAX], top = 0;
	int sp = 0;

	for (size_t i = 0; i < len; i++) {
		const struct insn *in = &code[i];
		switch ((enum op)in->op) {
		case OP_NUM: st[sp++] = top; top = in->u.k; break;
		case OP_BOOL_FIELD: st[sp++] = top; top = bool_field(c, in->field); break;
		case OP_TERM: st[sp++] = top; top = c->terms[in->field]; break;
		case OP_TREE: st[sp++] = top; top = eval_condition(in->u.node, c); break;
		case OP_NOT: top = tri_not((enum tri)top); break;
		case OP_AND: top = tri_and(st[--sp], top); break;
		case OP_OR: top = tri_or(st[--sp], top); break;
		case OP_CMP: top = cmp((enum expr_kind)in->field, st[--sp], top); break;
		}
	}
	return (enum tri)top;
}
