/*
 * Times and durations. Calendar arithmetic is done here on the proleptic Gregorian
 * calendar rather than with timegm/gmtime_r: no dependence on TZ or the C library's time
 * zone state, safe from any thread, and defined for every int64 input.
 */
#include "normalizer/timefmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

/* Days from 1970-01-01 to y-m-d. March-based years put the leap day last, so a day of
 * the year is a closed formula; 400-year eras make it exact for any year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : days[m - 1];
}

/* ---- parsing ---- */

struct cursor {
	const char *p;
	const char *end;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n digits into *out. */
static int take_digits(struct cursor *c, int n, int *out)
{
	int v = 0;

	if (c->end - c->p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!is_digit(c->p[i]))
			return -1;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*out = v;
	return 0;
}

/* The byte ch, if it is next. */
static int take(struct cursor *c, char ch)
{
	if (c->p == c->end || *c->p != ch)
		return 0;
	c->p++;
	return 1;
}

/* An optional fraction of a second, truncated to milliseconds. */
static int take_fraction(struct cursor *c, int *ms)
{
	int n = 0;

	*ms = 0;
	if (!take(c, '.') && !take(c, ','))
		return 0;
	for (; c->p < c->end && is_digit(*c->p); c->p++, n++)
		if (n < 3)
			*ms = *ms * 10 + (*c->p - '0');
	if (n == 0)
		return -1;
	for (; n < 3; n++)
		*ms *= 10;
	return 0;
}

/* Z, or +hh:mm, +hhmm, +hh (and -), as minutes east of UTC; none at all takes
 * default_offset unless that is TIME_OFFSET_NONE (then the time is ambiguous: refused). */
static int take_offset(struct cursor *c, int default_offset, int *minutes)
{
	int sign, hh, mm = 0;

	if (take(c, 'Z') || take(c, 'z')) {
		*minutes = 0;
		return 0;
	}
	if (c->p == c->end && default_offset != TIME_OFFSET_NONE) {
		*minutes = default_offset;
		return 0;
	}
	if (take(c, '+'))
		sign = 1;
	else if (take(c, '-'))
		sign = -1;
	else
		return -1;
	if (take_digits(c, 2, &hh) < 0)
		return -1;
	if (c->p < c->end && (take(c, ':') || is_digit(*c->p)) && take_digits(c, 2, &mm) < 0)
		return -1;
	if (mm > 59 || hh * 60 + mm > 18 * 60)
		return -1;
	*minutes = sign * (hh * 60 + mm);
	return 0;
}

int time_parse_iso8601(const char *s, size_t len, int64_t *ms)
{
	return time_parse_iso8601_in(s, len, TIME_OFFSET_NONE, ms);
}

int time_parse_offset(const char *s, int *minutes)
{
	struct cursor c = {s, s + strlen(s)};
	if (strcmp(s, "UTC") == 0) {
		*minutes = 0;
		return 0;
	}
	if (take_offset(&c, TIME_OFFSET_NONE, minutes) < 0 || c.p != c.end)
		return -1;
	return 0;
}

int time_parse_iso8601_in(const char *s, size_t len, int default_offset, int64_t *ms)
{
	struct cursor c = {s, s + len};
	int y, mo, d, h, mi, sec, frac, off;

	if (s == NULL)
		return -1;
	if (take_digits(&c, 4, &y) < 0 || !take(&c, '-') || take_digits(&c, 2, &mo) < 0 ||
	    !take(&c, '-') || take_digits(&c, 2, &d) < 0)
		return -1;
	if (!take(&c, 'T') && !take(&c, 't') && !take(&c, ' '))
		return -1;
	if (take_digits(&c, 2, &h) < 0 || !take(&c, ':') || take_digits(&c, 2, &mi) < 0 ||
	    !take(&c, ':') || take_digits(&c, 2, &sec) < 0)
		return -1;
	if (take_fraction(&c, &frac) < 0 || take_offset(&c, default_offset, &off) < 0 || c.p != c.end)
		return -1;
	/* A leap second (:60) is allowed and lands on the next minute's :00. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	*ms = days_from_civil(y, mo, d) * MS_PER_DAY +
	      ((int64_t)h * 3600 + mi * 60 + sec - (int64_t)off * 60) * 1000 + frac;
	return 0;
}

/* ---- formatting ---- */

static char *put_digits(char *out, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return out + width;
}

void time_format_rfc3339(int64_t ms, char *buf)
{
	const int64_t lo = days_from_civil(0, 1, 1) * MS_PER_DAY;
	const int64_t hi = days_from_civil(10000, 1, 1) * MS_PER_DAY - 1;
	int64_t days, rem, y;
	int m, d;
	char *o = buf;

	ms = ms < lo ? lo : ms > hi ? hi : ms;
	/* Floor division: the time of day of a negative ms is still 0..86399999. */
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		days--;
		rem += MS_PER_DAY;
	}
	civil_from_days(days, &y, &m, &d);
	o = put_digits(o, y, 4);
	*o++ = '-';
	o = put_digits(o, m, 2);
	*o++ = '-';
	o = put_digits(o, d, 2);
	*o++ = 'T';
	o = put_digits(o, rem / 3600000, 2);
	*o++ = ':';
	o = put_digits(o, rem / 60000 % 60, 2);
	*o++ = ':';
	o = put_digits(o, rem / 1000 % 60, 2);
	*o++ = '.';
	o = put_digits(o, rem % 1000, 3);
	memcpy(o, "Z", 2);
}

/* ---- durations ---- */

static const struct {
	const char *name;
	int64_t ms;
} duration_units[] = {
	{"w", 7 * MS_PER_DAY}, {"d", MS_PER_DAY}, {"h", 3600000},
	{"m", 60000},          {"s", 1000},       {"ms", 1},
};

#define NDURATION (sizeof(duration_units) / sizeof(duration_units[0]))

static int64_t gcd(int64_t a, int64_t b)
{
	while (b != 0) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/*
 * The fraction digits f[0..n) of one unit (of unit ms) as whole milliseconds; -1 when
 * that is not a whole number or has too many digits to hold.
 */
static int64_t fraction_ms(const char *f, size_t n, int64_t unit)
{
	int64_t v = 0, scale = 1, g;

	while (n > 0 && f[n - 1] == '0')
		n--;
	if (n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (f[i] - '0');
		scale *= 10;
	}
	/* v / scale of a unit is v * unit / scale ms: whole only if scale / g divides v. */
	g = gcd(unit, scale);
	if (v % (scale / g) != 0)
		return -1;
	return v / (scale / g) * (unit / g);
}

static int64_t unit_ms(const char *name)
{
	for (size_t i = 0; i < NDURATION; i++)
		if (strcmp(duration_units[i].name, name) == 0)
			return duration_units[i].ms;
	return -1;
}

int duration_parse(const char *s, int64_t *ms)
{
	const char *p = s, *frac = NULL;
	int64_t whole = 0, unit, part;
	size_t nfrac = 0;

	if (s == NULL || !is_digit(*p))
		return -1;
	for (; is_digit(*p); p++) {
		if (whole > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		frac = ++p;
		while (is_digit(*p))
			p++;
		nfrac = (size_t)(p - frac);
		if (nfrac == 0)
			return -1;
	}
	if (*p == ' ')
		p++;
	if ((unit = unit_ms(p)) < 0 || (part = fraction_ms(frac, nfrac, unit)) < 0)
		return -1;
	if (whole > (INT64_MAX - part) / unit || whole * unit + part == 0)
		return -1;
	*ms = whole * unit + part;
	return 0;
}

int duration_format(int64_t ms, char *buf, size_t len)
{
	size_t i = 0;

	if (ms == 0)
		return snprintf(buf, len, "0s");
	while (ms % duration_units[i].ms != 0)
		i++;
	return snprintf(buf, len, "%" PRId64 "%s", ms / duration_units[i].ms,
			duration_units[i].name);
}
