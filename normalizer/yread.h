/*
 * Typed reads from a ynode tree for the schema loaders, each reporting a precise
 * file:line:col error into the diagnostics and carrying on, so one run finds every error.
 * Every function returns 0 when the value was read (or is absent and optional), -1 after
 * reporting an error. Strings written to *out are owned by the caller (free).
 */
#ifndef CITYLINK_YREAD_H
#define CITYLINK_YREAD_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/diag.h"
#include "normalizer/yamltree.h"

struct yctx {
	const char *file;
	struct norm_diags *d;
	int errors;
};

void yerr(struct yctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Checks that n is a map (what names it in the message) and has only allowed keys
 * (NULL-terminated). Unknown keys are errors naming the allowed ones. */
int ymap_check(struct yctx *c, const struct ynode *n, const char *what,
	       const char *const *allowed);

/* A required key's absence is reported at map. */
const struct ynode *yrequire(struct yctx *c, const struct ynode *map, const char *key,
			     const char *what);

int yscalar(struct yctx *c, const struct ynode *n, const char *what);
int ystring(struct yctx *c, const struct ynode *n, const char *what, char **out);
/* Identifiers: lower-case letters, digits and '-', starting with a letter, <= 48 chars. */
int yident(struct yctx *c, const struct ynode *n, const char *what, char **out);
int yinteger(struct yctx *c, const struct ynode *n, const char *what, long min, long max,
	     long *out);
int ynumber(struct yctx *c, const struct ynode *n, const char *what, double *out);
int ybool(struct yctx *c, const struct ynode *n, const char *what, int *out);
int yduration(struct yctx *c, const struct ynode *n, const char *what, int64_t *ms);
/* A scalar or a sequence of scalars, as a list of strings. */
int ystring_list(struct yctx *c, const struct ynode *n, const char *what, char ***out,
		 size_t *count);
/* Index of the scalar's text in choices (NULL-terminated). */
int ychoice(struct yctx *c, const struct ynode *n, const char *what,
	    const char *const *choices, int *out);

/* Parses text as a number the way YAML and JSON both write one (no hex, inf or nan). */
int text_to_number(const char *text, double *out);

void strlist_free(char **list, size_t n);

#endif
