/*
 * From a raw payload value to a typed value in the standard's terms: maps, numbers from
 * strings, scale and offset, unit conversion, integer and range checks, UTF-8 and length
 * of strings. Every refusal names the field and the value.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/json_strict.h"
#include "normalizer/norm_internal.h"
#include "normalizer/timefmt.h"
#include "normalizer/units.h"
#include "normalizer/yread.h"

/* Unix times beyond 9999-12-31 are typos (or microseconds), not readings. */
#define TIME_MAX_MS 253402300799999LL

/* Whole numbers are most of what devices send (counts, states, map keys); writing their
 * digits by hand skips printf's floating-point machinery. buf holds at least 24 bytes. */
static int format_whole(double v, char *buf, size_t len)
{
	char digits[24];
	int n = 0, neg = v < 0;
	if (len < 24 || v != nearbyint(v) || fabs(v) >= 1e15 || (v == 0 && signbit(v)))
		return 0;
	uint64_t u = (uint64_t)(neg ? -v : v);
	do {
		digits[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	size_t at = 0;
	if (neg)
		buf[at++] = '-';
	while (n > 0)
		buf[at++] = digits[--n];
	buf[at] = '\0';
	return 1;
}

void format_double(double v, char *buf, size_t len)
{
	if (format_whole(v, buf, len))
		return;
	/* %g drops trailing zeros, so the first precision that reads back is the shortest. */
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, len, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* Scale and unit conversion leave binary dust (0.57 * 100 = 56.99999999999999); no
 * sensor is precise to 12 significant digits, so converted values are rounded to that.
 * Dividing a whole number by an exact power of ten rounds correctly, so 57 comes out 57. */
static double round_significant(double v)
{
	/* Exact powers of ten: 10^22 is the largest a double holds exactly. */
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	double a = fabs(v);
	int digits = 0; /* digits before the point, 0 for |v| < 1 */
	if (!(a >= 1e-10 && a < 1e12))
		return v; /* too small or too large to carry conversion dust worth rounding */
	while (digits < 12 && a >= pow10[digits])
		digits++;
	/* Keep 12 significant digits: scale so that they sit before the point. */
	int shift = 12 - digits;
	for (double t = a; digits == 0 && t < 0.1 && shift < 22; t *= 10)
		shift++;
	double p = pow10[shift];
	return nearbyint(v * p) / p;
}

void raw_from_text(const char *s, size_t len, struct raw *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = RAW_STRING;
	out->text = s;
	out->len = len;
	if (len == 4 && memcmp(s, "true", 4) == 0) {
		out->kind = RAW_BOOL;
		out->boolean = 1;
	} else if (len == 5 && memcmp(s, "false", 5) == 0) {
		out->kind = RAW_BOOL;
	} else if (text_to_number_n(s, len, &out->number) == 0) {
		out->kind = RAW_NUMBER;
	}
}

void raw_need_text(struct raw *raw)
{
	if (raw->text != NULL)
		return;
	format_double(raw->number, raw->buf, sizeof(raw->buf));
	raw->text = raw->buf;
	raw->len = strlen(raw->buf);
}

int raw_from_json(struct norm_result *r, const cJSON *j, const char *what, struct raw *out)
{
	memset(out, 0, sizeof(*out));
	if (cJSON_IsNumber(j)) {
		out->kind = RAW_NUMBER;
		out->number = j->valuedouble;
	} else if (cJSON_IsString(j)) {
		out->kind = RAW_STRING;
		out->text = j->valuestring;
		out->len = strlen(j->valuestring);
	} else if (cJSON_IsBool(j)) {
		out->kind = RAW_BOOL;
		out->boolean = cJSON_IsTrue(j);
		out->text = out->boolean ? "true" : "false";
		out->len = strlen(out->text);
	} else {
		return reject(r, "%s: expected a value, got %s", what,
			      cJSON_IsArray(j) ? "an array" : cJSON_IsObject(j) ? "an object" : "null");
	}
	return NORM_OK;
}

int text_to_number_n(const char *s, size_t len, double *out)
{
	char tmp[64];
	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return text_to_number(tmp, out);
}

/* A number from a JSON number or a string holding one ("21.5"). */
static int raw_number(struct norm_result *r, const char *name, const struct raw *raw, double *out)
{
	if (raw->kind == RAW_NUMBER) {
		*out = raw->number;
		return NORM_OK;
	}
	if (raw->kind == RAW_STRING && text_to_number_n(raw->text, raw->len, out) == 0)
		return NORM_OK;
	return reject(r, "%s: %s%.*s%s is not a number", name, raw->kind == RAW_STRING ? "\"" : "",
		      (int)(raw->len > 64 ? 64 : raw->len), raw->text,
		      raw->kind == RAW_STRING ? "\"" : "");
}

static int check_range(struct norm_result *r, const struct norm_field *f, double v)
{
	if (!f->has_range || (v >= f->min && v <= f->max))
		return NORM_OK;
	/* 15 digits: a person reads the reason; the stored value keeps every bit. */
	return reject(r, "%s: %.15g is %s the range %.15g..%.15g", f->name, v,
		      v < f->min ? "below" : "above", f->min, f->max);
}

static int set_numeric(struct norm_result *r, const struct norm_field *f, double v,
		       struct norm_value *out)
{
	char val[40];
	if (!isfinite(v))
		return reject(r, "%s: the value is not finite after conversion", f->name);
	if (f->type == NORM_INTEGER) {
		double whole = nearbyint(v);
		/* Conversions leave float dust (45.0000000001): tolerate it, not real fractions. */
		if (fabs(v - whole) > 1e-9 * fmax(1.0, fabs(v))) {
			format_double(v, val, sizeof(val));
			return reject(r, "%s: %s is not a whole number", f->name, val);
		}
		if (fabs(whole) > 9007199254740992.0) {
			format_double(v, val, sizeof(val));
			return reject(r, "%s: %s is too large for an integer", f->name, val);
		}
		v = whole;
		out->integer = (int64_t)whole;
	}
	if (check_range(r, f, v) != NORM_OK)
		return NORM_REJECT;
	out->number = v;
	out->present = 1;
	return NORM_OK;
}

static int convert_number(struct norm_result *r, const struct norm_field *f,
			  const struct norm_mapping *m, const struct unit *unit,
			  const struct raw *raw, struct norm_value *out)
{
	double v;
	if (raw->kind == RAW_BOOL)
		return reject(r, "%s: %s is not a number", f->name, raw->text);
	if (raw_number(r, f->name, raw, &v) != NORM_OK)
		return NORM_REJECT;
	int converted = m->scale != 1 || m->offset != 0;
	v = v * m->scale + m->offset;
	if (unit == NULL)
		unit = m->unit;
	if (unit != NULL && f->unit != NULL && unit != f->unit) {
		if (!unit_convertible(unit, f->unit))
			return reject(r, "%s: unit %s cannot convert to %s", f->name, unit_name(unit),
				      unit_name(f->unit));
		v = unit_convert(unit, f->unit, v);
		converted = 1;
	}
	return set_numeric(r, f, converted ? round_significant(v) : v, out);
}

static int convert_boolean(struct norm_result *r, const struct norm_field *f,
			   struct raw *raw, struct norm_value *out)
{
	if (raw->kind == RAW_BOOL) {
		out->boolean = raw->boolean;
	} else if (raw->kind == RAW_NUMBER && (raw->number == 0 || raw->number == 1)) {
		out->boolean = raw->number == 1;
	} else if (raw->kind == RAW_STRING && raw->len == 4 && memcmp(raw->text, "true", 4) == 0) {
		out->boolean = 1;
	} else if (raw->kind == RAW_STRING && raw->len == 5 && memcmp(raw->text, "false", 5) == 0) {
		out->boolean = 0;
	} else {
		raw_need_text(raw);
		return reject(r, "%s: %s%.*s%s is not a boolean (true or false)", f->name,
			      raw->kind == RAW_STRING ? "\"" : "", (int)(raw->len > 64 ? 64 : raw->len),
			      raw->text, raw->kind == RAW_STRING ? "\"" : "");
	}
	out->present = 1;
	return NORM_OK;
}

static int convert_enum(struct norm_result *r, const struct norm_field *f, struct raw *raw,
			struct norm_value *out)
{
	char list[256];

	raw_need_text(raw); /* enum values are text: a number matches by how it reads */
	size_t off = 0;

	for (size_t i = 0; i < f->n_values; i++) {
		if (strlen(f->values[i]) == raw->len && memcmp(f->values[i], raw->text, raw->len) == 0) {
			out->enum_index = i;
			out->present = 1;
			return NORM_OK;
		}
	}
	list[0] = '\0';
	for (size_t i = 0; i < f->n_values && off < sizeof(list); i++) {
		int n = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", f->values[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return reject(r, "%s: \"%.*s\" is not one of %s", f->name, (int)(raw->len > 64 ? 64 : raw->len),
		      raw->text, list);
}

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static int convert_string(struct norm_result *r, const struct norm_field *f, struct raw *raw,
			  struct norm_value *out)
{
	raw_need_text(raw); /* a number stored as text keeps its shortest spelling */
	long bad = utf8_invalid_at(raw->text, raw->len);
	if (bad >= 0)
		return reject(r, "%s: invalid UTF-8 at byte %ld of the text", f->name, bad);
	if (memchr(raw->text, '\0', raw->len) != NULL)
		return reject(r, "%s: the text holds a NUL character", f->name);
	size_t chars = utf8_chars(raw->text, raw->len);
	if (f->max_length > 0 && chars > (size_t)f->max_length)
		return reject(r, "%s: %zu characters, more than the maximum %ld", f->name, chars,
			      f->max_length);
	/* Text from the JSON tree or the arena outlives this call; a raw's own buffer does not. */
	out->text = raw->text == raw->buf ? arena_strndup(r, raw->text, raw->len) : raw->text;
	if (out->text == NULL)
		return NORM_ENOMEM;
	out->text_len = raw->len;
	out->present = 1;
	return NORM_OK;
}

static int apply_map(struct norm_result *r, const struct norm_field *f,
		     const struct norm_mapping *m, struct raw *raw, struct norm_value *out)
{
	raw_need_text(raw); /* map keys are the payload's values as text */
	for (size_t i = 0; i < m->n_map; i++) {
		const struct norm_map_entry *e = &m->map[i];
		if (strlen(e->key) != raw->len || memcmp(e->key, raw->text, raw->len) != 0)
			continue;
		switch (f->type) {
		case NORM_BOOLEAN:
			out->boolean = e->boolean;
			out->present = 1;
			return NORM_OK;
		case NORM_ENUM:
			out->enum_index = e->enum_index;
			out->present = 1;
			return NORM_OK;
		case NORM_STRING:
			out->text = e->text;
			out->text_len = strlen(e->text);
			out->present = 1;
			return NORM_OK;
		default:
			return set_numeric(r, f, e->number, out);
		}
	}
	return reject(r, "%s: %s%.*s%s is not in the source's map", f->name,
		      raw->kind == RAW_STRING ? "\"" : "", (int)(raw->len > 64 ? 64 : raw->len),
		      raw->text, raw->kind == RAW_STRING ? "\"" : "");
}

int value_set(struct norm_result *r, const struct norm_field *f, const struct norm_mapping *m,
	      const struct unit *unit, struct raw *raw, struct norm_value *v)
{
	if (m->n_map > 0)
		return apply_map(r, f, m, raw, v);
	switch (f->type) {
	case NORM_NUMBER:
	case NORM_INTEGER:
		return convert_number(r, f, m, unit, raw, v);
	case NORM_BOOLEAN:
		return convert_boolean(r, f, raw, v);
	case NORM_ENUM:
		return convert_enum(r, f, raw, v);
	case NORM_STRING:
		return convert_string(r, f, raw, v);
	case NORM_GEO:
		break;
	}
	return reject(r, "%s: a geo point needs lat and lon", f->name);
}

static int time_from_number(struct norm_result *r, enum norm_time_as as, struct raw *raw,
			    int64_t *ms)
{
	double v, scaled;
	if (raw_number(r, "time", raw, &v) != NORM_OK)
		return NORM_REJECT;
	scaled = as == NORM_TIME_UNIX_S ? v * 1000.0 : v;
	if (!(scaled >= 0 && scaled <= (double)TIME_MAX_MS)) {
		raw_need_text(raw);
		return reject(r, "time: %.*s is not a plausible %s time", (int)raw->len, raw->text,
			      as == NORM_TIME_UNIX_S ? "unix_s" : "unix_ms");
	}
	*ms = (int64_t)llround(scaled);
	return NORM_OK;
}

int time_from_raw(struct norm_result *r, const struct norm_source *src, struct raw *raw,
		  int64_t *ms)
{
	if (src->time_as == NORM_TIME_UNIX_S || src->time_as == NORM_TIME_UNIX_MS)
		return time_from_number(r, src->time_as, raw, ms);
	raw_need_text(raw);
	if (raw->kind != RAW_STRING ||
	    time_parse_iso8601_in(raw->text, raw->len, src->time_zone, ms) < 0)
		return reject(r, "time: %s%.*s%s is not ISO 8601", raw->kind == RAW_STRING ? "\"" : "",
			      (int)(raw->len > 64 ? 64 : raw->len), raw->text,
			      raw->kind == RAW_STRING ? "\"" : "");
	return NORM_OK;
}
