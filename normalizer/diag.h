/*
 * Diagnostics for authors: every problem found while loading a schema set, each formatted
 * "file:line:column: message", collected so that one run reports them all.
 */
#ifndef CITYLINK_DIAG_H
#define CITYLINK_DIAG_H

#include <stddef.h>

#define DIAG_MAX 200 /* more than this in one set is noise; the last line says how many more */

struct norm_diags {
	char **lines;   /* owned; each "file:line:col: message" */
	size_t n;
	size_t dropped; /* errors past DIAG_MAX, counted only */
	int oom;        /* an allocation failed: the list is incomplete */
};

/* Adds one diagnostic; line/col are 1-based (0 leaves them out). Never fails: on out of
 * memory it sets oom. */
void diags_add(struct norm_diags *d, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Frees the lines and zeroes d, so it can be reused. NULL is a no-op. */
void diags_clear(struct norm_diags *d);

#endif
