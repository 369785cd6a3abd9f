/*
 * The normalizer: topic + payload bytes + receive time -> zero or more records in the
 * linkage standard, or one specific reject reason. Pure and thread-safe: the schema is
 * read-only, and each thread uses its own norm_result.
 */
#ifndef CITYLINK_NORMALIZE_H
#define CITYLINK_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/model.h"
#include "normalizer/schema.h"

enum { NORM_OK = 0, NORM_REJECT = -1, NORM_ENOMEM = -2 };

/* Bounds on untrusted input; norm_limits_default() gives the defaults. */
struct norm_limits {
	size_t max_payload;  /* bytes (default 256 KiB) */
	int max_depth;       /* JSON nesting (default 32) */
	size_t max_records;  /* records per message (default 1000) */
};
struct norm_limits norm_limits_default(void);

/* One typed value; which member is meaningful follows the standard field's type. */
struct norm_value {
	int present;
	double number;       /* NORM_NUMBER */
	int64_t integer;     /* NORM_INTEGER */
	int boolean;         /* NORM_BOOLEAN */
	size_t enum_index;   /* NORM_ENUM: index into the field's values */
	const char *text;    /* NORM_STRING: not NUL-terminated, valid UTF-8 */
	size_t text_len;
	double lat, lon;     /* NORM_GEO */
};

struct norm_record {
	const struct norm_source *source;   /* source->standard is the record's standard */
	const char *device;                 /* NUL-terminated */
	int64_t time_ms;                    /* UTC milliseconds since the epoch */
	const struct norm_value *values;    /* one per field of the standard, in its order */
};

struct norm_result;

/* A reusable result: each norm_normalize overwrites it. NULL on out of memory.
 * Caller frees with norm_result_free. */
struct norm_result *norm_result_create(void);
void norm_result_free(struct norm_result *r);

/*
 * Normalizes one message. Returns NORM_OK with the records in r, NORM_REJECT with the
 * reason in r, or NORM_ENOMEM. Everything the result points to is valid until r is
 * reused or freed. limits may be NULL for the defaults.
 */
int norm_normalize(const struct norm_schema *s, const struct norm_limits *limits,
		   const char *topic, size_t topic_len, const void *payload, size_t len,
		   int64_t received_ms, struct norm_result *r);

size_t norm_result_count(const struct norm_result *r);
const struct norm_record *norm_result_record(const struct norm_result *r, size_t i);
/* The reject reason ("pm25: 1200 is above the range 0..1000"), or "" after NORM_OK. */
const char *norm_result_reason(const struct norm_result *r);
/* The source the topic matched, or NULL (also on a reject, when it is known). */
const struct norm_source *norm_result_source(const struct norm_result *r);

/* A growable byte buffer for formatted output. Zero-initialise; free with norm_buf_free. */
struct norm_buf {
	char *data;
	size_t len, cap;
};
void norm_buf_free(struct norm_buf *b);
/* Append bytes / formatted text; data stays NUL-terminated. 0 or NORM_ENOMEM. */
int norm_buf_append(struct norm_buf *b, const char *s, size_t len);
int norm_buf_printf(struct norm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for more bytes after len (plus the NUL). 0 or NORM_ENOMEM. */
int norm_buf_reserve(struct norm_buf *b, size_t more);

/*
 * Appends rec as one line of JSON (design.md's record format, no newline):
 * {"standard":..,"source":..,"device":..,"time":"2026-11-21T09:10:00.123Z","values":{..}}
 * Returns 0, or NORM_ENOMEM.
 */
int norm_record_json(const struct norm_record *rec, struct norm_buf *out);

/* Appends the present values of a record of st as the JSON object of the record format
 * ({"pm25":17.9,"state":"ok"}). 0, or NORM_ENOMEM. */
int norm_values_json(const struct norm_standard *st, const struct norm_value *values,
		     struct norm_buf *out);

/* Appends one present value as plain text, for messages: numbers as in the record format,
 * true/false, an enum's or a string's text unquoted, a geo value "lat,lon". 0 or NORM_ENOMEM. */
int norm_value_text(const struct norm_field *f, const struct norm_value *v, struct norm_buf *out);

#endif
