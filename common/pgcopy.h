/*
 * PostgreSQL's binary COPY format, written into a buffer: exact values with no escaping,
 * so no payload text can ever be read as a column or row separator (a text COPY with a
 * missed escape lets a device forge rows), and no float is rounded through decimal.
 * Format: https://www.postgresql.org/docs/15/sql-copy.html ("Binary Format").
 * Out of memory ends the process (xmalloc.h).
 */
#ifndef CITYLINK_PGCOPY_H
#define CITYLINK_PGCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/normalize.h"

/* Zero-initialise; pgcopy_reset before each COPY; free with pgcopy_free. */
struct pgcopy {
	struct norm_buf buf;
	size_t rows;
};

void pgcopy_reset(struct pgcopy *c);  /* empties it and writes the file header */
void pgcopy_free(struct pgcopy *c);
void pgcopy_row(struct pgcopy *c, int columns); /* starts a row of that many fields */
void pgcopy_null(struct pgcopy *c);
void pgcopy_int4(struct pgcopy *c, int32_t v);
void pgcopy_int8(struct pgcopy *c, int64_t v);
void pgcopy_float8(struct pgcopy *c, double v);
void pgcopy_bool(struct pgcopy *c, int v);
void pgcopy_bytes(struct pgcopy *c, const void *p, size_t len); /* text or bytea */
void pgcopy_text(struct pgcopy *c, const char *s);             /* NUL-terminated */
void pgcopy_timestamptz(struct pgcopy *c, int64_t unix_ms);
/* Appends the trailer; the buffer then holds a complete COPY ... (FORMAT binary) stream. */
void pgcopy_finish(struct pgcopy *c);

#endif
