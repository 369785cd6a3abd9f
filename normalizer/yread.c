/* Typed, error-collecting reads from YAML trees (see yread.h). */
#include "normalizer/yread.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/timefmt.h"

#define IDENT_MAX 48

void yerr(struct yctx *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diags_add(c->d, c->file, at ? at->line : 0, at ? at->col : 0, "%s", msg);
	c->errors++;
}

static void join_allowed(const char *const *allowed, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; allowed[i] != NULL && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", allowed[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int ymap_check(struct yctx *c, const struct ynode *n, const char *what,
	       const char *const *allowed)
{
	int rc = 0;
	char list[512];

	if (n == NULL || n->kind != YNODE_MAP) {
		yerr(c, n, "%s must be a mapping (key: value)", what);
		return -1;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *k = ynode_key(n, i);
		size_t j = 0;
		while (allowed[j] != NULL && strcmp(allowed[j], k->text) != 0)
			j++;
		if (allowed[j] == NULL) {
			join_allowed(allowed, list, sizeof(list));
			yerr(c, k, "unknown key \"%s\" in %s (expected one of: %s)", k->text, what,
			     list);
			rc = -1;
		}
	}
	return rc;
}

const struct ynode *yrequire(struct yctx *c, const struct ynode *map, const char *key,
			     const char *what)
{
	const struct ynode *v = ynode_get(map, key);
	if (v == NULL && map != NULL && map->kind == YNODE_MAP)
		yerr(c, map, "%s needs \"%s\"", what, key);
	return v;
}

int yscalar(struct yctx *c, const struct ynode *n, const char *what)
{
	if (n->kind != YNODE_SCALAR) {
		yerr(c, n, "%s must be a single value, not a %s", what,
		     n->kind == YNODE_MAP ? "mapping" : "list");
		return -1;
	}
	return 0;
}

int ystring(struct yctx *c, const struct ynode *n, const char *what, char **out)
{
	if (yscalar(c, n, what) < 0)
		return -1;
	if (n->len == 0) {
		yerr(c, n, "%s must not be empty", what);
		return -1;
	}
	*out = strdup(n->text);
	if (*out == NULL) {
		c->d->oom = 1;
		c->errors++;
		return -1;
	}
	return 0;
}

int yident(struct yctx *c, const struct ynode *n, const char *what, char **out)
{
	if (yscalar(c, n, what) < 0)
		return -1;
	const char *s = n->text;
	int ok = n->len > 0 && n->len <= IDENT_MAX && islower((unsigned char)s[0]);
	for (size_t i = 0; ok && i < n->len; i++)
		ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-';
	if (!ok || s[n->len - 1] == '-') {
		yerr(c, n,
		     "%s \"%s\" must be lower-case letters, digits and '-', start with a letter, "
		     "at most %d characters",
		     what, s, IDENT_MAX);
		return -1;
	}
	return ystring(c, n, what, out);
}

/* JSON's number grammar (RFC 8259 §6), with a leading '+' allowed as YAML does. strtod
 * alone would also take hex ("0x10"), "inf", "nan" and leading white space. */
static int number_grammar(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return 0;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

int text_to_number(const char *text, double *out)
{
	char *end;

	if (!number_grammar(text))
		return -1;
	errno = 0;
	double v = strtod(text, &end);
	if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int ynumber(struct yctx *c, const struct ynode *n, const char *what, double *out)
{
	if (yscalar(c, n, what) < 0)
		return -1;
	if (!n->plain || text_to_number(n->text, out) < 0) {
		yerr(c, n, "%s must be a number, not \"%s\"", what, n->text);
		return -1;
	}
	return 0;
}

int yinteger(struct yctx *c, const struct ynode *n, const char *what, long min, long max,
	     long *out)
{
	double v;
	if (ynumber(c, n, what, &v) < 0)
		return -1;
	if (v != floor(v) || v < (double)min || v > (double)max) {
		yerr(c, n, "%s must be a whole number from %ld to %ld, not %s", what, min, max,
		     n->text);
		return -1;
	}
	*out = (long)v;
	return 0;
}

int ybool(struct yctx *c, const struct ynode *n, const char *what, int *out)
{
	if (yscalar(c, n, what) < 0)
		return -1;
	/* Only true/false: YAML 1.1's yes/no/on/off turn a country code into a boolean. */
	if (n->plain && strcmp(n->text, "true") == 0)
		*out = 1;
	else if (n->plain && strcmp(n->text, "false") == 0)
		*out = 0;
	else {
		yerr(c, n, "%s must be true or false, not \"%s\"", what, n->text);
		return -1;
	}
	return 0;
}

int yduration(struct yctx *c, const struct ynode *n, const char *what, int64_t *ms)
{
	if (yscalar(c, n, what) < 0)
		return -1;
	if (duration_parse(n->text, ms) < 0) {
		yerr(c, n, "%s \"%s\" is not a duration (a number and ms, s, m, h, d or w: 30s, 5m)",
		     what, n->text);
		return -1;
	}
	return 0;
}

void strlist_free(char **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int ystring_list(struct yctx *c, const struct ynode *n, const char *what, char ***out,
		 size_t *count)
{
	size_t items = n->kind == YNODE_SEQ ? n->n : 1;
	char **list = calloc(items ? items : 1, sizeof(*list));

	*out = NULL;
	*count = 0;
	if (list == NULL) {
		c->d->oom = 1;
		c->errors++;
		return -1;
	}
	if (n->kind == YNODE_MAP) {
		free(list);
		yerr(c, n, "%s must be a value or a list of values", what);
		return -1;
	}
	for (size_t i = 0; i < items; i++) {
		const struct ynode *item = n->kind == YNODE_SEQ ? n->kids[i] : n;
		if (ystring(c, item, what, &list[i]) < 0) {
			strlist_free(list, i);
			return -1;
		}
	}
	if (items == 0) {
		free(list);
		yerr(c, n, "%s must not be an empty list", what);
		return -1;
	}
	*out = list;
	*count = items;
	return 0;
}

int ychoice(struct yctx *c, const struct ynode *n, const char *what,
	    const char *const *choices, int *out)
{
	char list[256];

	if (yscalar(c, n, what) < 0)
		return -1;
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], n->text) == 0) {
			*out = i;
			return 0;
		}
	}
	join_allowed(choices, list, sizeof(list));
	yerr(c, n, "%s \"%s\" is not one of: %s", what, n->text, list);
	return -1;
}
