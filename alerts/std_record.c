/* Reading std/ stream records back into typed values (std_record.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alerts/std_record.h"
#include "normalizer/timefmt.h"

struct std_parser {
	cJSON *tree;                 /* kept so strings can point into it */
	struct norm_value *values;
	size_t cap_values;
};

struct std_parser *std_parser_create(void)
{
	return calloc(1, sizeof(struct std_parser));
}

void std_parser_free(struct std_parser *p)
{
	if (p == NULL)
		return;
	cJSON_Delete(p->tree);
	free(p->values);
	free(p);
}

static int invalid(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int invalid(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return STD_INVALID;
}

/* A required string member; NULL with the reason in err. */
static const char *member_string(const cJSON *root, const char *name, char *err, size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, name);
	if (m == NULL) {
		invalid(err, errlen, "missing \"%s\"", name);
		return NULL;
	}
	if (!cJSON_IsString(m) || m->valuestring[0] == '\0') {
		invalid(err, errlen, "\"%s\" must be a non-empty string", name);
		return NULL;
	}
	return m->valuestring;
}

static int read_geo(const cJSON *j, struct norm_value *v)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "lat");
	const cJSON *lon = cJSON_GetObjectItemCaseSensitive(j, "lon");
	if (!cJSON_IsObject(j) || !cJSON_IsNumber(lat) || !cJSON_IsNumber(lon) ||
	    fabs(lat->valuedouble) > 90 || fabs(lon->valuedouble) > 180)
		return -1;
	v->lat = lat->valuedouble;
	v->lon = lon->valuedouble;
	return 0;
}

static int read_enum(const struct norm_field *f, const cJSON *j, struct norm_value *v)
{
	if (!cJSON_IsString(j))
		return -1;
	for (size_t i = 0; i < f->n_values; i++)
		if (strcmp(f->values[i], j->valuestring) == 0) {
			v->enum_index = i;
			return 0;
		}
	return -1;
}

/* Types one JSON value as field f; -1 when it is not of the field's type. */
static int read_value(const struct norm_field *f, const cJSON *j, struct norm_value *v)
{
	switch (f->type) {
	case NORM_NUMBER:
		if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
			return -1;
		v->number = j->valuedouble;
		return 0;
	case NORM_INTEGER:
		/* 2^63 is exact as a double; anything at or beyond it does not fit. */
		if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) ||
		    fabs(j->valuedouble) >= 9223372036854775808.0)
			return -1;
		v->integer = (int64_t)j->valuedouble;
		return 0;
	case NORM_BOOLEAN:
		if (!cJSON_IsBool(j))
			return -1;
		v->boolean = cJSON_IsTrue(j);
		return 0;
	case NORM_ENUM:
		return read_enum(f, j, v);
	case NORM_STRING:
		if (!cJSON_IsString(j))
			return -1;
		v->text = j->valuestring;
		v->text_len = strlen(j->valuestring);
		return 0;
	case NORM_GEO:
		return read_geo(j, v);
	}
	return -1;
}

static const char *expected(const struct norm_field *f)
{
	switch (f->type) {
	case NORM_NUMBER: return "a number";
	case NORM_INTEGER: return "an integer";
	case NORM_BOOLEAN: return "true or false";
	case NORM_ENUM: return "one of the field's values";
	case NORM_STRING: return "a string";
	case NORM_GEO: return "{\"lat\": -90..90, \"lon\": -180..180}";
	}
	return "a value";
}

static int read_values(struct std_parser *p, const struct norm_standard *st, const cJSON *values,
		       char *err, size_t errlen)
{
	const cJSON *j;

	if (!cJSON_IsObject(values))
		return invalid(err, errlen, values == NULL ? "missing \"values\""
							   : "\"values\" must be an object");
	if (p->cap_values < st->n_fields) {
		struct norm_value *grown = realloc(p->values, st->n_fields * sizeof(*grown));
		if (grown == NULL)
			return STD_ENOMEM;
		p->values = grown;
		p->cap_values = st->n_fields;
	}
	memset(p->values, 0, st->n_fields * sizeof(*p->values));
	cJSON_ArrayForEach(j, values) {
		int i = norm_standard_field(st, j->string);
		if (i < 0)
			return invalid(err, errlen, "values.%s: not a field of %s", j->string, st->id);
		if (p->values[i].present)
			return invalid(err, errlen, "values.%s: given twice", j->string);
		if (read_value(&st->fields[i], j, &p->values[i]) < 0)
			return invalid(err, errlen, "values.%s: expected %s", j->string,
				       expected(&st->fields[i]));
		p->values[i].present = 1;
	}
	return STD_OK;
}

int std_record_parse(struct std_parser *p, const struct norm_schema *s, const char *json,
		     size_t len, struct std_record *out, char *err, size_t errlen)
{
	const char *id, *when;

	const char *end = NULL;

	cJSON_Delete(p->tree);
	/* The end pointer, not cJSON_GetErrorPtr: that one is a global, shared by threads. */
	p->tree = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (p->tree == NULL)
		return invalid(err, errlen, "not JSON (at byte %zu)",
			       end != NULL && end >= json ? (size_t)(end - json) : 0);
	while (end < json + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
		end++;
	if (end < json + len)
		return invalid(err, errlen, "not JSON: data after the object (at byte %zu)",
			       (size_t)(end - json));
	if (!cJSON_IsObject(p->tree))
		return invalid(err, errlen, "not a JSON object");
	if ((id = member_string(p->tree, "standard", err, errlen)) == NULL ||
	    (out->source = member_string(p->tree, "source", err, errlen)) == NULL ||
	    (out->device = member_string(p->tree, "device", err, errlen)) == NULL ||
	    (when = member_string(p->tree, "time", err, errlen)) == NULL)
		return STD_INVALID;
	if ((out->standard = norm_schema_standard(s, id)) == NULL)
		return invalid(err, errlen, "unknown standard \"%s\"", id);
	if (time_parse_iso8601(when, strlen(when), &out->time_ms) < 0)
		return invalid(err, errlen, "time: \"%s\" is not an RFC 3339 time with an offset", when);
	int rc = read_values(p, out->standard, cJSON_GetObjectItemCaseSensitive(p->tree, "values"),
			     err, errlen);
	out->values = p->values;
	return rc;
}
