/* Unit tests for normalizer/timefmt.c, checked against the C library's calendar too. */
#include "normalizer/timefmt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"

/* Parses a NUL-terminated s; returns ms, or the marker 42 when refused. */
static int64_t parse(const char *s)
{
	int64_t ms = 42;

	if (time_parse_iso8601(s, strlen(s), &ms) != 0)
		return 42;
	return ms;
}

static void parse_forms(void)
{
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00Z"), 1795252200000LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00.123+09:00"), 1795219800123LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00.123+0900"), 1795219800123LL);
	ASSERT_INT_EQ(parse("2026-11-21T18:10:00.123+09"), 1795252200123LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00-05"), 1795270200000LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00-05:00"), 1795270200000LL);
	ASSERT_INT_EQ(parse("2026-11-21T04:40:00-04:30"), 1795252200000LL);
	ASSERT_INT_EQ(parse("2026-11-21 09:10:00Z"), 1795252200000LL);
	ASSERT_INT_EQ(parse("2026-11-21t09:10:00z"), 1795252200000LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00+00:00"), 1795252200000LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00-00:00"), 1795252200000LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00+18:00"), 1795252200000LL - 18 * 3600000LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00-18:00"), 1795252200000LL + 18 * 3600000LL);
}

static void parse_fractions(void)
{
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00.5Z"), 1795252200500LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00.05Z"), 1795252200050LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00,250Z"), 1795252200250LL);
	/* Truncated, never rounded, to milliseconds. */
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00.123999999999Z"), 1795252200123LL);
	ASSERT_INT_EQ(parse("2026-11-21T09:10:00.0009Z"), 1795252200000LL);
	ASSERT_INT_EQ(parse("1969-12-31T23:59:59.9999Z"), -1);
}

static void parse_calendar(void)
{
	ASSERT_INT_EQ(parse("1970-01-01T00:00:00Z"), 0);
	ASSERT_INT_EQ(parse("1969-12-31T23:59:59.999Z"), -1);
	ASSERT_INT_EQ(parse("1900-01-01T00:00:00Z"), -2208988800000LL);
	ASSERT_INT_EQ(parse("2024-02-29T12:00:00Z"), 1709208000000LL);
	ASSERT_INT_EQ(parse("2000-02-29T00:00:00Z"), 951868800000LL - 86400000LL);
	ASSERT_INT_EQ(parse("2000-03-01T00:00:00Z"), 951868800000LL);
	ASSERT_INT_EQ(parse("0001-01-01T00:00:00Z"), -62135596800000LL);
	ASSERT_INT_EQ(parse("0000-01-01T00:00:00Z"), -62167219200000LL);
	ASSERT_INT_EQ(parse("0000-02-29T00:00:00Z"), -62167219200000LL + 59 * 86400000LL);
	ASSERT_INT_EQ(parse("9999-12-31T23:59:59.999Z"), 253402300799999LL);
	/* A leap second is the next minute's first. */
	ASSERT_INT_EQ(parse("2016-12-31T23:59:60Z"), parse("2017-01-01T00:00:00Z"));
}

static void parse_refused(void)
{
	static const char *const bad[] = {
		"",
		"2026-11-21T09:10:00",       /* no offset */
		"2026-11-21",                /* no time */
		"2026-11-21T09:10Z",         /* no seconds */
		"2026-13-01T00:00:00Z",      /* month 13 */
		"2026-00-01T00:00:00Z",      /* month 0 */
		"2026-02-30T00:00:00Z",      /* Feb 30 */
		"2023-02-29T00:00:00Z",      /* not a leap year */
		"1900-02-29T00:00:00Z",      /* not a leap year either */
		"2026-04-31T00:00:00Z",      /* April has 30 days */
		"2026-01-00T00:00:00Z",      /* day 0 */
		"2026-11-21T24:00:00Z",      /* hour 24 */
		"2026-11-21T25:00:00Z",      /* hour 25 */
		"2026-11-21T09:60:00Z",      /* minute 60 */
		"2026-11-21T09:10:61Z",      /* second 61 */
		"2026-11-21T09:10:00+18:01", /* offset beyond 18:00 */
		"2026-11-21T09:10:00+19",
		"2026-11-21T09:10:00-19:00",
		"2026-11-21T09:10:00+05:60",
		"2026-11-21T09:10:00+09:",
		"2026-11-21T09:10:00+090",
		"2026-11-21T09:10:00+9",
		"2026-11-21T09:10:00+09:0",
		"2026-11-21T09:10:00Zjunk",
		"2026-11-21T09:10:00Z ",
		" 2026-11-21T09:10:00Z",
		"2026-11-21T09:10:00.Z",     /* a point needs digits */
		"2026-11-21X09:10:00Z",
		"2026-11-21T09:10Z:00",
		"26-11-21T09:10:00Z",
		"+2026-11-21T09:10:00Z",
		"2026-1-21T09:10:00Z",
		"2026-11-21T9:10:00Z",
		"2026/11/21T09:10:00Z",
		"20261121T091000Z",
		"2026-11-21T09:10:00UTC",
		"1795252200000",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;
		if (time_parse_iso8601(bad[i], strlen(bad[i]), &ms) != -1)
			TEST_FAIL_AT("accepted \"%s\"", bad[i]);
		/* Nothing written on failure. */
		ASSERT_INT_EQ(ms, 42);
	}
	ASSERT_INT_EQ(time_parse_iso8601(NULL, 0, NULL), -1);
}

static void parse_not_nul_terminated(void)
{
	const char s[] = "2026-11-21T09:10:00Z2026-11-21T09:10:00+09:00";
	int64_t ms = 0;

	ASSERT_INT_EQ(time_parse_iso8601(s, 20, &ms), 0);
	ASSERT_INT_EQ(ms, 1795252200000LL);
	ASSERT_INT_EQ(time_parse_iso8601(s + 20, 25, &ms), 0);
	ASSERT_INT_EQ(ms, 1795252200000LL - 9 * 3600000LL);
	/* Cut short by len: "...+09:0" and "...T09:10:0". */
	ASSERT_INT_EQ(time_parse_iso8601(s + 20, 24, &ms), -1);
	ASSERT_INT_EQ(time_parse_iso8601(s, 18, &ms), -1);
}

static void format_times(void)
{
	char buf[TIME_RFC3339_LEN];

	time_format_rfc3339(0, buf);
	ASSERT_STR_EQ(buf, "1970-01-01T00:00:00.000Z");
	time_format_rfc3339(1795252200123LL, buf);
	ASSERT_STR_EQ(buf, "2026-11-21T09:10:00.123Z");
	time_format_rfc3339(951868800000LL - 1, buf);
	ASSERT_STR_EQ(buf, "2000-02-29T23:59:59.999Z");
	time_format_rfc3339(253402300799999LL, buf);
	ASSERT_STR_EQ(buf, "9999-12-31T23:59:59.999Z");
	time_format_rfc3339(-62167219200000LL, buf);
	ASSERT_STR_EQ(buf, "0000-01-01T00:00:00.000Z");
}

static void format_negative_floors(void)
{
	char buf[TIME_RFC3339_LEN];

	time_format_rfc3339(-1, buf);
	ASSERT_STR_EQ(buf, "1969-12-31T23:59:59.999Z");
	time_format_rfc3339(-1000, buf);
	ASSERT_STR_EQ(buf, "1969-12-31T23:59:59.000Z");
	time_format_rfc3339(-1001, buf);
	ASSERT_STR_EQ(buf, "1969-12-31T23:59:58.999Z");
	time_format_rfc3339(-86400000, buf);
	ASSERT_STR_EQ(buf, "1969-12-31T00:00:00.000Z");
	time_format_rfc3339(-86400001, buf);
	ASSERT_STR_EQ(buf, "1969-12-30T23:59:59.999Z");
	time_format_rfc3339(-2208988800000LL - 1, buf);
	ASSERT_STR_EQ(buf, "1899-12-31T23:59:59.999Z");
}

static void format_clamps(void)
{
	char buf[TIME_RFC3339_LEN];

	time_format_rfc3339(INT64_MIN, buf);
	ASSERT_STR_EQ(buf, "0000-01-01T00:00:00.000Z");
	time_format_rfc3339(-62167219200000LL - 1, buf);
	ASSERT_STR_EQ(buf, "0000-01-01T00:00:00.000Z");
	time_format_rfc3339(INT64_MAX, buf);
	ASSERT_STR_EQ(buf, "9999-12-31T23:59:59.999Z");
	time_format_rfc3339(253402300800000LL, buf);
	ASSERT_STR_EQ(buf, "9999-12-31T23:59:59.999Z");
}

/* Every day from 1600 to 2500, against timegm and gmtime_r, parsed and formatted back. */
static void calendar_against_libc(void)
{
	char buf[TIME_RFC3339_LEN], want[64];
	int64_t start = parse("1600-01-01T00:00:00Z"), stop = parse("2500-12-31T00:00:00Z");

	ASSERT(start != 42 && stop != 42);
	for (int64_t ms = start; ms <= stop; ms += 86400000LL + 3723004) {
		time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		struct tm tm;
		if (gmtime_r(&t, &tm) == NULL)
			TEST_FAIL_AT("gmtime_r");
		int n = snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				 tm.tm_sec, (int)(ms - (int64_t)t * 1000));
		ASSERT(n > 0 && n < (int)sizeof(want));
		time_format_rfc3339(ms, buf);
		ASSERT_STR_EQ(buf, want);
		ASSERT_INT_EQ(parse(buf), ms);
		ASSERT_INT_EQ((int64_t)timegm(&tm) * 1000 + (ms - (int64_t)t * 1000), ms);
	}
}

/* Parses s as a duration; returns ms, or -42 when refused. */
static int64_t dur(const char *s)
{
	int64_t ms = -42;

	if (duration_parse(s, &ms) != 0)
		return -42;
	return ms;
}

static void durations(void)
{
	ASSERT_INT_EQ(dur("500ms"), 500);
	ASSERT_INT_EQ(dur("30s"), 30000);
	ASSERT_INT_EQ(dur("5m"), 300000);
	ASSERT_INT_EQ(dur("2h"), 7200000);
	ASSERT_INT_EQ(dur("1d"), 86400000);
	ASSERT_INT_EQ(dur("1w"), 604800000);
	ASSERT_INT_EQ(dur("5 m"), 300000);
	ASSERT_INT_EQ(dur("1.5h"), 5400000);
	ASSERT_INT_EQ(dur("0.5s"), 500);
	ASSERT_INT_EQ(dur("0.001s"), 1);
	ASSERT_INT_EQ(dur("2.50m"), 150000);
	ASSERT_INT_EQ(dur("1.000000000000000000000000s"), 1000);
	ASSERT_INT_EQ(dur("0.0000003125w"), 189);
	ASSERT_INT_EQ(dur("007s"), 7000);
	ASSERT_INT_EQ(dur("9223372036854775807ms"), INT64_MAX);
	ASSERT_INT_EQ(dur("15250284452w"), 15250284452LL * 604800000LL);
}

static void durations_refused(void)
{
	static const char *const bad[] = {
		"", "5", "m", "0s", "0ms", "0.0h", "-5m", "+5m", "5x", "5M", "5min", "5sec",
		"5mss", " 5m", "5m ", "5  m", "5\tm", ".5h", "5.h", "1e3s", "1.5.5s", "0.5ms",
		"0.0001s", "1.0000000000000000001s",
		"9223372036854775808ms",      /* past int64 */
		"9223372036854775807s",       /* past int64 once in ms */
		"15250284453w",               /* just past int64 in ms */
		"99999999999999999999999999h",
		"5m\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = -42;
		if (duration_parse(bad[i], &ms) != -1)
			TEST_FAIL_AT("accepted \"%s\"", bad[i]);
		ASSERT_INT_EQ(ms, -42);
	}
	ASSERT_INT_EQ(duration_parse(NULL, NULL), -1);
}

static void duration_formats(void)
{
	static const struct {
		int64_t ms;
		const char *text;
	} cases[] = {
		{300000, "5m"},  {90000, "90s"},     {604800000, "1w"}, {1209600000, "2w"},
		{86400000, "1d"}, {691200000, "8d"}, {7200000, "2h"},   {5400000, "90m"},
		{1500, "1500ms"}, {1, "1ms"},        {0, "0s"},         {-300000, "-5m"},
		{INT64_MAX, "9223372036854775807ms"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = duration_format(cases[i].ms, buf, sizeof(buf));
		ASSERT_STR_EQ(buf, cases[i].text);
		ASSERT_INT_EQ(n, strlen(cases[i].text));
		/* And back, for what parse accepts. */
		if (cases[i].ms > 0)
			ASSERT_INT_EQ(dur(buf), cases[i].ms);
	}
	/* snprintf's value: the length it wanted, even when cut. */
	ASSERT_INT_EQ(duration_format(1500, buf, 3), 6);
	ASSERT_STR_EQ(buf, "15");
}

static const struct test_case cases[] = {
	{"parse_forms", parse_forms},
	{"parse_fractions", parse_fractions},
	{"parse_calendar", parse_calendar},
	{"parse_refused", parse_refused},
	{"parse_not_nul_terminated", parse_not_nul_terminated},
	{"format_times", format_times},
	{"format_negative_floors", format_negative_floors},
	{"format_clamps", format_clamps},
	{"calendar_against_libc", calendar_against_libc},
	{"durations", durations},
	{"durations_refused", durations_refused},
	{"duration_formats", duration_formats},
	{NULL, NULL},
};

TEST_MAIN(cases)
