/* Allocation that cannot fail (see xmalloc.h). */
#include "common/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "normalizer/normalize.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);
	if (p == NULL)
		fatalx("out of memory allocating %zu bytes", n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
	if (p == NULL)
		fatalx("out of memory allocating %zu x %zu bytes", count, size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);
	if (q == NULL)
		fatalx("out of memory allocating %zu bytes", n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int xcheck(int rc)
{
	if (rc == NORM_ENOMEM)
		fatalx("out of memory");
	return rc;
}
