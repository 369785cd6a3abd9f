/* Collected load diagnostics (see diag.h). */
#include "normalizer/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diags_add(struct norm_diags *d, const char *file, int line, int col, const char *fmt, ...)
{
	char text[1024];
	size_t off;
	va_list ap;

	if (d->n >= DIAG_MAX) {
		d->dropped++;
		return;
	}
	if (line > 0 && col > 0)
		snprintf(text, sizeof(text), "%s:%d:%d: ", file, line, col);
	else if (line > 0)
		snprintf(text, sizeof(text), "%s:%d: ", file, line);
	else
		snprintf(text, sizeof(text), "%s: ", file);
	off = strlen(text);
	va_start(ap, fmt);
	vsnprintf(text + off, sizeof(text) - off, fmt, ap);
	va_end(ap);

	char *copy = strdup(text);
	char **grown = copy ? realloc(d->lines, (d->n + 1) * sizeof(*d->lines)) : NULL;
	if (grown == NULL) {
		free(copy);
		d->oom = 1;
		return;
	}
	d->lines = grown;
	d->lines[d->n++] = copy;
}

void diags_clear(struct norm_diags *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	memset(d, 0, sizeof(*d));
}
