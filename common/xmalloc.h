/*
 * Allocation for the daemons and the tool: out of memory is logged and ends the process
 * (style.md §6), so callers never carry an error path for it. The normalizer library does
 * not use these: it returns NORM_ENOMEM, since others may embed it.
 */
#ifndef CITYLINK_XMALLOC_H
#define CITYLINK_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Dies with a log line if rc is NORM_ENOMEM (a norm_buf append failed); returns rc. */
int xcheck(int rc);

#endif
