/*
 * Reading one record of the normalized stream (std/<standard>/<device>, design.md):
 *   {"standard":"air-quality","source":"acme-aq","device":"aq-0042",
 *    "time":"2026-11-21T09:10:00.123Z","values":{"pm25":17.9,...}}
 * back into typed values against the loaded schema, so the rule engine sees exactly what
 * ingest stored. Pure: no I/O, no globals; each thread uses its own std_parser.
 */
#ifndef CITYLINK_STD_RECORD_H
#define CITYLINK_STD_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/normalize.h"
#include "normalizer/schema.h"

/* One parsed record. Every pointer is owned by the std_parser that filled it and valid
 * until that parser parses again or is freed. */
struct std_record {
	const struct norm_standard *standard;
	const char *source;                 /* NUL-terminated */
	const char *device;                 /* NUL-terminated */
	int64_t time_ms;                    /* the record's (device) time, UTC ms */
	const struct norm_value *values;    /* one per field of standard, in its order;
					       .present 0 for a field the record lacks */
};

/* A reusable parse buffer. NULL on out of memory; free with std_parser_free (NULL ok). */
struct std_parser *std_parser_create(void);
void std_parser_free(struct std_parser *p);

enum { STD_OK = 0, STD_INVALID = -1, STD_ENOMEM = -2 };

/*
 * Parses json[0..len) (need not be NUL-terminated) against schema s into *out.
 * Returns STD_OK; STD_INVALID with a specific reason in err ("not JSON: ...",
 * "unknown standard \"x\"", "values.pm99: not a field of air-quality",
 * "values.pm25: expected a number", "time: not an RFC 3339 time", "missing \"device\"", ...);
 * or STD_ENOMEM. On error *out is left unusable. err may be NULL when errlen is 0.
 * Values are checked for type only (ingest already checked ranges); an enum value must be
 * one the field lists; a geo value is {"lat":..,"lon":..}.
 */
int std_record_parse(struct std_parser *p, const struct norm_schema *s, const char *json,
		     size_t len, struct std_record *out, char *err, size_t errlen);

#endif
