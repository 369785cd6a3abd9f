/*
 * Times and durations as the schema language and the record format spell them.
 * Times are int64 milliseconds since the Unix epoch, UTC.
 */
#ifndef CITYLINK_TIMEFMT_H
#define CITYLINK_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * ISO 8601 / RFC 3339 date-time: "2026-11-21T09:10:00Z", "...T09:10:00.123+09:00",
 * "...+0900", "...-05", a space instead of 'T', fractions of any length (truncated to ms).
 * A time without an offset is refused (ambiguous). s need not be NUL-terminated.
 * Seconds are required; 't', 'z' and a ',' before the fraction are accepted too; a leap
 * second (:60) is taken as the next minute's :00. Years are 4 digits (0000..9999).
 * Returns 0 and *ms, or -1 when s is not such a time (or a field is out of range:
 * month 13, Feb 30, hour 25, offset beyond +-18:00), with nothing written.
 */
int time_parse_iso8601(const char *s, size_t len, int64_t *ms);

/* The same, but a time written without an offset is taken at default_offset minutes east
 * of UTC (a source's declared zone). TIME_OFFSET_NONE refuses such times, as above. */
#define TIME_OFFSET_NONE (-100000)
int time_parse_iso8601_in(const char *s, size_t len, int default_offset, int64_t *ms);

/* A fixed UTC offset as a source declares it: "UTC", "Z", "+09:00", "+0900", "-05".
 * Returns 0 and minutes east of UTC, or -1. */
int time_parse_offset(const char *s, int *minutes);

/* Formats ms as "2026-11-21T09:10:00.123Z" (always UTC, always milliseconds).
 * buf must hold TIME_RFC3339_LEN bytes. Years outside 0..9999 are clamped: earlier times
 * print as 0000-01-01T00:00:00.000Z, later ones as 9999-12-31T23:59:59.999Z. */
#define TIME_RFC3339_LEN 32
void time_format_rfc3339(int64_t ms, char *buf);

/*
 * Durations: a positive number and a unit, "500ms", "30s", "5m", "2h", "1d", "1w",
 * with an optional space before the unit ("5 m" is refused only if ambiguous: it is not).
 * The number is decimal digits with an optional fraction ("1.5h"), which must come to
 * whole milliseconds ("0.5ms" is refused). No sign, no exponent, no other white space.
 * Returns 0 and *ms, or -1 with nothing written (also for zero and for overflow).
 */
int duration_parse(const char *s, int64_t *ms);

/* Writes a duration back in the largest exact unit ("5m", "90s", "1w"; zero is "0s");
 * returns snprintf's value. */
int duration_format(int64_t ms, char *buf, size_t len);

#endif
