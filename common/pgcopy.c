/* Binary COPY encoding (see pgcopy.h). Integers are big-endian on the wire. */
#include "common/pgcopy.h"

#include <string.h>

#include "common/xmalloc.h"

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
#define PG_EPOCH_US INT64_C(946684800000000)

static void put(struct pgcopy *c, const void *p, size_t len)
{
	xcheck(norm_buf_append(&c->buf, p, len));
}

static void put_be(struct pgcopy *c, uint64_t v, int bytes)
{
	unsigned char b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	put(c, b, (size_t)bytes);
}

void pgcopy_reset(struct pgcopy *c)
{
	static const char signature[11] = "PGCOPY\n\377\r\n";

	c->buf.len = 0;
	c->rows = 0;
	put(c, signature, sizeof(signature)); /* 11 bytes, the last one NUL */
	put_be(c, 0, 4);                      /* flags: no OIDs */
	put_be(c, 0, 4);                      /* header extension length */
}

void pgcopy_free(struct pgcopy *c)
{
	norm_buf_free(&c->buf);
	c->rows = 0;
}

void pgcopy_row(struct pgcopy *c, int columns)
{
	put_be(c, (uint16_t)columns, 2);
	c->rows++;
}

void pgcopy_null(struct pgcopy *c)
{
	put_be(c, UINT32_MAX, 4); /* length -1 */
}

void pgcopy_int4(struct pgcopy *c, int32_t v)
{
	put_be(c, 4, 4);
	put_be(c, (uint32_t)v, 4);
}

void pgcopy_int8(struct pgcopy *c, int64_t v)
{
	put_be(c, 8, 4);
	put_be(c, (uint64_t)v, 8);
}

void pgcopy_float8(struct pgcopy *c, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	put_be(c, 8, 4);
	put_be(c, bits, 8);
}

void pgcopy_bool(struct pgcopy *c, int v)
{
	unsigned char b = v ? 1 : 0;
	put_be(c, 1, 4);
	put(c, &b, 1);
}

void pgcopy_bytes(struct pgcopy *c, const void *p, size_t len)
{
	put_be(c, (uint32_t)len, 4);
	put(c, p, len);
}

void pgcopy_text(struct pgcopy *c, const char *s)
{
	pgcopy_bytes(c, s, strlen(s));
}

void pgcopy_timestamptz(struct pgcopy *c, int64_t unix_ms)
{
	pgcopy_int8(c, unix_ms * 1000 - PG_EPOCH_US);
}

void pgcopy_finish(struct pgcopy *c)
{
	put_be(c, UINT16_MAX, 2); /* field count -1 ends the data */
}
