/* norm_buf: the growable output buffer of the record and DDL writers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/normalize.h"

void norm_buf_free(struct norm_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int norm_buf_reserve(struct norm_buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return NORM_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		return NORM_ENOMEM;
	b->data = p;
	b->cap = cap;
	return NORM_OK;
}

int norm_buf_append(struct norm_buf *b, const char *s, size_t len)
{
	if (norm_buf_reserve(b, len) != NORM_OK)
		return NORM_ENOMEM;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
	return NORM_OK;
}

int norm_buf_printf(struct norm_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || norm_buf_reserve(b, (size_t)n) != NORM_OK)
		return NORM_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return NORM_OK;
}
