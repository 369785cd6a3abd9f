/* Rule expressions: a recursive-descent parser with type checking (see expr.h). */
#include "normalizer/expr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/schema.h"
#include "normalizer/timefmt.h"

#define EXPR_MAX_DEPTH 64

struct parser {
	const char *text, *p;
	const struct norm_standard *st;
	char *err;
	size_t errlen, at;
	int failed, oom, depth;
};

static const char *const type_names[] = {"a number", "a boolean", "text"};

static struct expr *fail(struct parser *ps, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct expr *fail(struct parser *ps, const char *where, const char *fmt, ...)
{
	va_list ap;
	if (ps->failed)
		return NULL;
	ps->failed = 1;
	ps->at = (size_t)(where - ps->text);
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
	return NULL;
}

enum expr_kind expr_mirror(enum expr_kind op)
{
	switch (op) {
	case EXPR_LT: return EXPR_GT;
	case EXPR_LE: return EXPR_GE;
	case EXPR_GT: return EXPR_LT;
	case EXPR_GE: return EXPR_LE;
	default: return op;
	}
}

void expr_free(struct expr *e)
{
	if (e == NULL)
		return;
	expr_free(e->left);
	expr_free(e->right);
	free(e->text);
	free(e);
}

static struct expr *node(struct parser *ps, enum expr_kind kind, enum expr_type type,
			 struct expr *left, struct expr *right)
{
	struct expr *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		ps->oom = 1;
		fail(ps, ps->p, "out of memory");
		expr_free(left);
		expr_free(right);
		return NULL;
	}
	e->kind = kind;
	e->type = type;
	e->left = left;
	e->right = right;
	return e;
}

static void skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

/* Consumes tok if it is next (a word must not run on into an identifier). */
static int accept(struct parser *ps, const char *tok)
{
	size_t n = strlen(tok);
	skip_space(ps);
	if (strncmp(ps->p, tok, n) != 0)
		return 0;
	if (isalpha((unsigned char)tok[0]) && (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_'))
		return 0;
	ps->p += n;
	return 1;
}

static struct expr *parse_or(struct parser *ps);
static struct expr *parse_sum(struct parser *ps);

static size_t ident_len(const char *p)
{
	size_t n = 0;
	if (!isalpha((unsigned char)p[0]) && p[0] != '_')
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

static struct expr *field_ref(struct parser *ps, const char *start, size_t len)
{
	char name[64];
	if (len >= sizeof(name))
		return fail(ps, start, "\"%.*s\" is too long for a field name", (int)len, start);
	memcpy(name, start, len);
	name[len] = '\0';
	int idx = norm_standard_field(ps->st, name);
	if (idx < 0)
		return fail(ps, start, "standard %s has no field \"%s\"", ps->st->id, name);
	const struct norm_field *f = &ps->st->fields[idx];
	enum expr_type t = f->type == NORM_BOOLEAN ? EXPR_BOOLEAN
			   : f->type == NORM_ENUM || f->type == NORM_STRING ? EXPR_TEXT
									   : EXPR_NUMBER;
	if (f->type == NORM_GEO)
		return fail(ps, start, "field %s is a geo point and cannot be compared", name);
	struct expr *e = node(ps, EXPR_FIELD, t, NULL, NULL);
	if (e != NULL)
		e->field = (size_t)idx;
	return e;
}

static struct expr *parse_number(struct parser *ps)
{
	char *end;
	const char *start = ps->p;
	double v = strtod(start, &end);
	if (end == start || isalpha((unsigned char)*end))
		return fail(ps, start, "expected a number");
	ps->p = end;
	struct expr *e = node(ps, EXPR_CONST_NUMBER, EXPR_NUMBER, NULL, NULL);
	if (e != NULL)
		e->number = v;
	return e;
}

static struct expr *parse_text(struct parser *ps)
{
	char quote = *ps->p;
	const char *start = ps->p + 1, *end = strchr(start, quote);
	if (end == NULL)
		return fail(ps, ps->p, "text starting here has no closing %c", quote);
	struct expr *e = node(ps, EXPR_CONST_TEXT, EXPR_TEXT, NULL, NULL);
	if (e != NULL && (e->text = strndup(start, (size_t)(end - start))) == NULL) {
		expr_free(e);
		ps->oom = 1;
		return fail(ps, start, "out of memory");
	}
	ps->p = end + 1;
	return e;
}

/* delta(field, 10m) and rate(field, 1m): change over a window of a numeric field. */
static struct expr *parse_window_fn(struct parser *ps, enum expr_kind kind, const char *name)
{
	char dur[32];
	skip_space(ps);
	const char *fstart = ps->p;
	size_t flen = ident_len(fstart);
	if (flen == 0)
		return fail(ps, fstart, "%s() takes a field name first", name);
	ps->p += flen;
	struct expr *f = field_ref(ps, fstart, flen);
	if (f == NULL)
		return NULL;
	if (f->type != EXPR_NUMBER) {
		expr_free(f);
		return fail(ps, fstart, "%s() needs a numeric field", name);
	}
	if (!accept(ps, ",")) {
		expr_free(f);
		return fail(ps, ps->p, "%s() takes a field and a duration: %s(%.*s, 10m)", name, name,
			    (int)flen, fstart);
	}
	skip_space(ps);
	const char *dstart = ps->p;
	size_t dlen = strcspn(dstart, ") \t");
	snprintf(dur, sizeof(dur), "%.*s", (int)(dlen < sizeof(dur) ? dlen : sizeof(dur) - 1), dstart);
	struct expr *e = node(ps, kind, EXPR_NUMBER, NULL, NULL);
	if (e == NULL) {
		expr_free(f);
		return NULL;
	}
	e->field = f->field;
	expr_free(f);
	if (duration_parse(dur, &e->window_ms) < 0) {
		expr_free(e);
		return fail(ps, dstart, "\"%s\" is not a duration (30s, 10m, 1h)", dur);
	}
	ps->p = dstart + dlen;
	if (!accept(ps, ")")) {
		expr_free(e);
		return fail(ps, ps->p, "expected ')'");
	}
	return e;
}

static struct expr *parse_call_or_field(struct parser *ps)
{
	const char *start = ps->p;
	size_t len = ident_len(start);
	ps->p += len;
	if ((len == 4 && memcmp(start, "true", 4) == 0) || (len == 5 && memcmp(start, "false", 5) == 0)) {
		struct expr *e = node(ps, EXPR_CONST_BOOLEAN, EXPR_BOOLEAN, NULL, NULL);
		if (e != NULL)
			e->number = start[0] == 't';
		return e;
	}
	if (!accept(ps, "("))
		return field_ref(ps, start, len);
	if (len == 5 && memcmp(start, "delta", 5) == 0)
		return parse_window_fn(ps, EXPR_DELTA, "delta");
	if (len == 4 && memcmp(start, "rate", 4) == 0)
		return parse_window_fn(ps, EXPR_RATE, "rate");
	if (len != 3 || memcmp(start, "abs", 3) != 0)
		return fail(ps, start, "unknown function \"%.*s\" (abs, delta, rate)", (int)len, start);
	const char *arg = ps->p;
	struct expr *inner = parse_sum(ps);
	if (inner == NULL)
		return NULL;
	if (inner->type != EXPR_NUMBER) {
		expr_free(inner);
		return fail(ps, arg, "abs() needs a number");
	}
	if (!accept(ps, ")")) {
		expr_free(inner);
		return fail(ps, ps->p, "expected ')'");
	}
	return node(ps, EXPR_ABS, EXPR_NUMBER, inner, NULL);
}

static struct expr *parse_primary(struct parser *ps)
{
	skip_space(ps);
	const char *start = ps->p;
	if (*start == '(') {
		ps->p++;
		struct expr *e = parse_or(ps);
		if (e != NULL && !accept(ps, ")")) {
			expr_free(e);
			return fail(ps, ps->p, "expected ')'");
		}
		return e;
	}
	if (isdigit((unsigned char)*start) || (*start == '.' && isdigit((unsigned char)start[1])))
		return parse_number(ps);
	if (*start == '\'' || *start == '"')
		return parse_text(ps);
	if (ident_len(start) > 0)
		return parse_call_or_field(ps);
	if (*start == '\0')
		return fail(ps, start, "the expression ends too early");
	return fail(ps, start, "unexpected '%c'", *start);
}

static struct expr *parse_unary(struct parser *ps)
{
	const char *start = (skip_space(ps), ps->p);
	if (!accept(ps, "-"))
		return parse_primary(ps);
	if (++ps->depth > EXPR_MAX_DEPTH)
		return fail(ps, start, "the expression is nested too deeply");
	struct expr *inner = parse_unary(ps);
	ps->depth--;
	if (inner != NULL && inner->type != EXPR_NUMBER) {
		expr_free(inner);
		return fail(ps, start, "'-' needs a number");
	}
	return inner ? node(ps, EXPR_NEG, EXPR_NUMBER, inner, NULL) : NULL;
}

/* Joins left OP right after checking both sides have the type the operator needs. */
static struct expr *binary(struct parser *ps, const char *at, enum expr_kind kind,
			   const char *op, enum expr_type need, enum expr_type result,
			   struct expr *left, struct expr *right)
{
	if (right == NULL) {
		expr_free(left);
		return NULL;
	}
	if (left->type != need || right->type != need) {
		enum expr_type got = left->type != need ? left->type : right->type;
		expr_free(left);
		expr_free(right);
		return fail(ps, at, "'%s' needs %s on both sides, not %s", op, type_names[need],
			    type_names[got]);
	}
	return node(ps, kind, result, left, right);
}

static struct expr *parse_product(struct parser *ps)
{
	struct expr *e = parse_unary(ps);
	for (;;) {
		if (e == NULL)
			return NULL;
		skip_space(ps);
		const char *at = ps->p;
		if (accept(ps, "*"))
			e = binary(ps, at, EXPR_MUL, "*", EXPR_NUMBER, EXPR_NUMBER, e, parse_unary(ps));
		else if (accept(ps, "/"))
			e = binary(ps, at, EXPR_DIV, "/", EXPR_NUMBER, EXPR_NUMBER, e, parse_unary(ps));
		else
			return e;
	}
}

static struct expr *parse_sum(struct parser *ps)
{
	struct expr *e = parse_product(ps);
	for (;;) {
		if (e == NULL)
			return NULL;
		skip_space(ps);
		const char *at = ps->p;
		if (accept(ps, "+"))
			e = binary(ps, at, EXPR_ADD, "+", EXPR_NUMBER, EXPR_NUMBER, e, parse_product(ps));
		else if (accept(ps, "-"))
			e = binary(ps, at, EXPR_SUB, "-", EXPR_NUMBER, EXPR_NUMBER, e, parse_product(ps));
		else
			return e;
	}
}

/* An enum field compared with text must name one of its values. */
static struct expr *check_enum_literal(struct parser *ps, const char *at, struct expr *e)
{
	if (e == NULL)
		return NULL;
	const struct expr *f = e->left->kind == EXPR_FIELD ? e->left : e->right;
	const struct expr *lit = e->left->kind == EXPR_CONST_TEXT ? e->left : e->right;
	if (f->kind != EXPR_FIELD || lit->kind != EXPR_CONST_TEXT)
		return e;
	const struct norm_field *field = &ps->st->fields[f->field];
	for (size_t i = 0; field->type == NORM_ENUM && i < field->n_values; i++)
		if (strcmp(field->values[i], lit->text) == 0)
			return e;
	if (field->type != NORM_ENUM)
		return e;
	fail(ps, at, "\"%s\" is not one of the values of %s", lit->text, field->name);
	expr_free(e);
	return NULL;
}

static struct expr *parse_compare(struct parser *ps)
{
	static const struct {
		const char *op;
		enum expr_kind kind;
	} ops[] = {{"<=", EXPR_LE}, {">=", EXPR_GE}, {"==", EXPR_EQ}, {"!=", EXPR_NE},
		   {"<", EXPR_LT},  {">", EXPR_GT}};
	struct expr *left = parse_sum(ps);
	if (left == NULL)
		return NULL;
	skip_space(ps);
	const char *at = ps->p;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!accept(ps, ops[i].op))
			continue;
		struct expr *right = parse_sum(ps);
		int equality = ops[i].kind == EXPR_EQ || ops[i].kind == EXPR_NE;
		if (right != NULL && equality && left->type == right->type)
			return check_enum_literal(ps, at, node(ps, ops[i].kind, EXPR_BOOLEAN, left, right));
		if (right != NULL && equality) {
			enum expr_type lt = left->type, rt = right->type;
			expr_free(left);
			expr_free(right);
			return fail(ps, at, "'%s' compares %s with %s", ops[i].op, type_names[lt],
				    type_names[rt]);
		}
		return binary(ps, at, ops[i].kind, ops[i].op, EXPR_NUMBER, EXPR_BOOLEAN, left, right);
	}
	return left;
}

static struct expr *parse_not(struct parser *ps)
{
	const char *start = (skip_space(ps), ps->p);
	if (!accept(ps, "not"))
		return parse_compare(ps);
	if (++ps->depth > EXPR_MAX_DEPTH)
		return fail(ps, start, "the expression is nested too deeply");
	struct expr *inner = parse_not(ps);
	ps->depth--;
	if (inner != NULL && inner->type != EXPR_BOOLEAN) {
		enum expr_type t = inner->type;
		expr_free(inner);
		return fail(ps, start, "'not' needs a condition, not %s", type_names[t]);
	}
	return inner ? node(ps, EXPR_NOT, EXPR_BOOLEAN, inner, NULL) : NULL;
}

static struct expr *parse_and(struct parser *ps)
{
	struct expr *e = parse_not(ps);
	while (e != NULL) {
		skip_space(ps);
		const char *at = ps->p;
		if (!accept(ps, "and"))
			return e;
		e = binary(ps, at, EXPR_AND, "and", EXPR_BOOLEAN, EXPR_BOOLEAN, e, parse_not(ps));
	}
	return NULL;
}

static struct expr *parse_or(struct parser *ps)
{
	if (++ps->depth > EXPR_MAX_DEPTH)
		return fail(ps, ps->p, "the expression is nested too deeply");
	struct expr *e = parse_and(ps);
	while (e != NULL) {
		skip_space(ps);
		const char *at = ps->p;
		if (!accept(ps, "or"))
			break;
		e = binary(ps, at, EXPR_OR, "or", EXPR_BOOLEAN, EXPR_BOOLEAN, e, parse_and(ps));
	}
	ps->depth--;
	return e;
}

int expr_parse(const char *text, const struct norm_standard *st, struct expr **out, char *err,
	       size_t errlen, size_t *at)
{
	struct parser ps = {.text = text, .p = text, .st = st, .err = err, .errlen = errlen};
	struct expr *e = parse_or(&ps);

	*out = NULL;
	if (e != NULL && (skip_space(&ps), *ps.p != '\0')) {
		expr_free(e);
		e = fail(&ps, ps.p, "unexpected '%c' after a complete expression", *ps.p);
	}
	if (e != NULL && e->type != EXPR_BOOLEAN) {
		enum expr_type t = e->type;
		expr_free(e);
		e = fail(&ps, text, "the condition is %s, not true or false", type_names[t]);
	}
	*at = ps.at;
	if (e == NULL)
		return ps.oom ? -2 : -1;
	*out = e;
	return 0;
}
