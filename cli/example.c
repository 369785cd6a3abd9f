/*
 * Example messages for the vendor guide (see example.h). Each mapped field gets a value in
 * the middle of its standard's range, carried back through the source's unit, scale and
 * offset into what the vendor's device would send; maps get a key, geo points are in
 * Seoul, and the device id and time sit where the source reads them.
 */
#include "cli/example.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "normalizer/json_path.h"
#include "normalizer/units.h"

#define EXAMPLE_LAT 37.5665  /* Seoul City Hall */
#define EXAMPLE_LON 126.9780
#define EXAMPLE_BATCH 2      /* records in a json-batch example */

/* A value to put in a payload, before it becomes JSON, SenML or text. */
enum sample_kind { SAMPLE_NUMBER, SAMPLE_BOOL, SAMPLE_TEXT };
struct sample {
	enum sample_kind kind;
	double number;
	int boolean;
	char text[128];
};

/* What one example_build carries around. */
struct build {
	const struct norm_source *src;
	const struct example_input *in;
	char *err;
	size_t errlen;
};

/* Formats the reason into err; returns -1 for "return fail(...)". */
static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- values ---- */

/* A payload number read as the normalizer will: raw * scale + offset, then the unit. */
static double to_standard(const struct norm_field *f, const struct norm_mapping *m, double raw)
{
	double v = raw * m->scale + m->offset;
	if (m->unit != NULL && f->unit != NULL && m->unit != f->unit)
		v = unit_convert(m->unit, f->unit, v);
	return v;
}

static double to_payload(const struct norm_field *f, const struct norm_mapping *m, double v)
{
	if (m->unit != NULL && f->unit != NULL && m->unit != f->unit)
		v = unit_convert(f->unit, m->unit, v);
	return (v - m->offset) / m->scale;
}

/* Whether the normalizer keeps v (in the standard's unit): whole for integers, in range. */
static int valid_number(const struct norm_field *f, double v)
{
	if (!isfinite(v))
		return 0;
	if (f->type == NORM_INTEGER && fabs(v - nearbyint(v)) > 1e-9 * fmax(1.0, fabs(v)))
		return 0;
	return !f->has_range || (v >= f->min && v <= f->max);
}

/* The middle of the range (whole for integers), or a plain value without one. */
static double middle(const struct norm_field *f)
{
	double v = f->type == NORM_INTEGER ? 12 : 12.5;
	if (f->has_range)
		v = f->min / 2 + f->max / 2;
	return f->type == NORM_INTEGER ? floor(v) : v;
}

/* At most 3 decimals, give or take float dust: how a person writes a reading. */
static int is_short(double v, double *clean)
{
	*clean = nearbyint(v * 1000) / 1000;
	return fabs(*clean - v) <= 1e-9 * fmax(1.0, fabs(v));
}

/* Close enough to the target to still be that value: within tol (a share of the range;
 * 5% for the guide's round numbers, finer for the simulator's readings). */
static int near_target(const struct norm_field *f, double target, double tol, double v)
{
	double abs_tol = f->has_range ? (f->max - f->min) * tol : fmax(1.0, fabs(target) * tol);
	return fabs(v - target) <= abs_tol;
}

static int good_payload(const struct norm_field *f, const struct norm_mapping *m, double target,
			double tol, double raw)
{
	double v = to_standard(f, m, raw);
	return valid_number(f, v) && near_target(f, target, tol, v);
}

/*
 * The payload number for the target value (the middle for the guide), as a person would
 * write it: the exact value when it is short (72.5 degF, not 72.50000000001), else the
 * shortest rounding that still normalizes near the target (0.33 rather than 0.333333333);
 * for an integer field whose target has no short payload form (50 s in hours), a whole
 * value next to it that has one (54 s = 0.015 h). The exact value when nothing better is
 * found (also for a target outside the range: a deliberately bad message).
 */
static double payload_number(const struct norm_field *f, const struct norm_mapping *m,
			     double target, double tol)
{
	double exact = to_payload(f, m, target), clean;

	if (is_short(exact, &clean) && good_payload(f, m, target, tol, clean))
		return clean;
	for (int digits = 0; digits <= 6; digits++) {
		double p = pow(10, digits), cand = nearbyint(exact * p) / p;
		if (good_payload(f, m, target, tol, cand))
			return cand;
	}
	for (int k = 1; f->type == NORM_INTEGER && k <= 1000; k++) {
		for (int sign = -1; sign <= 1; sign += 2) {
			double raw = to_payload(f, m, target + sign * k);
			if (is_short(raw, &clean) && good_payload(f, m, target, tol, clean))
				return clean;
		}
	}
	return exact;
}

/* The map key whose target is the wanted value v, or NULL. */
static const struct norm_map_entry *key_for(const struct norm_field *f, const struct norm_mapping *m,
					    const struct example_value *v)
{
	const struct norm_map_entry *best = NULL;

	for (size_t i = 0; i < m->n_map; i++) {
		const struct norm_map_entry *e = &m->map[i];
		if (f->type == NORM_BOOLEAN && e->boolean == (v->number != 0))
			return e;
		if (f->type == NORM_ENUM && e->enum_index == (size_t)v->number)
			return e;
		if ((f->type == NORM_NUMBER || f->type == NORM_INTEGER) && valid_number(f, e->number) &&
		    (best == NULL || fabs(e->number - v->number) < fabs(best->number - v->number)))
			best = e;
	}
	return best;
}

/* The map key to send: the one for the wanted value v when given and mapped; else one
 * whose target is true for booleans (the interesting case), and in range for numbers;
 * else the first. */
static const struct norm_map_entry *pick_key(const struct norm_field *f,
					     const struct norm_mapping *m,
					     const struct example_value *v)
{
	const struct norm_map_entry *wanted = v ? key_for(f, m, v) : NULL;

	if (wanted != NULL)
		return wanted;
	for (size_t i = 0; i < m->n_map; i++) {
		const struct norm_map_entry *e = &m->map[i];
		if (f->type == NORM_BOOLEAN ? e->boolean
		    : f->type == NORM_NUMBER || f->type == NORM_INTEGER ? valid_number(f, e->number)
									  : 1)
			return e;
	}
	return &m->map[0];
}

/* A map key as the payload would carry it: true/false, a JSON number that reads back as
 * the same text, or else a string. */
static void sample_from_key(const char *key, struct sample *out)
{
	char again[48], *end;
	double v = strtod(key, &end);

	snprintf(again, sizeof(again), "%.15g", v);
	if (strcmp(key, "true") == 0 || strcmp(key, "false") == 0) {
		out->kind = SAMPLE_BOOL;
		out->boolean = key[0] == 't';
	} else if (end != key && *end == '\0' && isfinite(v) && strcmp(again, key) == 0) {
		out->kind = SAMPLE_NUMBER;
		out->number = v;
	} else {
		out->kind = SAMPLE_TEXT;
		snprintf(out->text, sizeof(out->text), "%s", key);
	}
}

/* The wanted value of m's field in record `record`, or NULL for the example's own. */
static const struct example_value *wanted(const struct build *b, const struct norm_mapping *m,
					  int record)
{
	const struct example_value *v;

	if (b->in->values == NULL)
		return NULL;
	v = &b->in->values[(size_t)record * b->src->standard->n_fields + m->field];
	return v->set ? v : NULL;
}

static void sample_for(const struct build *b, const struct norm_mapping *m, int record,
		       struct sample *out)
{
	const struct norm_field *f = &b->src->standard->fields[m->field];
	const struct example_value *v = wanted(b, m, record);

	memset(out, 0, sizeof(*out));
	out->kind = SAMPLE_TEXT;
	if (m->n_map > 0) {
		sample_from_key(pick_key(f, m, v)->key, out);
		return;
	}
	switch (f->type) {
	case NORM_NUMBER:
	case NORM_INTEGER:
		out->kind = SAMPLE_NUMBER;
		out->number = v ? payload_number(f, m, v->number, 0.001) : payload_number(f, m, middle(f), 0.05);
		break;
	case NORM_BOOLEAN:
		out->kind = SAMPLE_BOOL;
		out->boolean = v ? v->number != 0 : 1;
		break;
	case NORM_ENUM:
		if (v != NULL && (size_t)v->number < f->n_values)
			snprintf(out->text, sizeof(out->text), "%s", f->values[(size_t)v->number]);
		else
			snprintf(out->text, sizeof(out->text), "%s", f->n_values ? f->values[0] : "");
		break;
	case NORM_STRING:
		if (v != NULL && v->text != NULL)
			snprintf(out->text, sizeof(out->text), "%s", v->text);
		else
			snprintf(out->text, sizeof(out->text), "%s-01", f->name);
		if (f->max_length > 0 && strlen(out->text) > (size_t)f->max_length)
			out->text[f->max_length] = '\0'; /* field names are ASCII */
		break;
	case NORM_GEO:
		break;
	}
}

static cJSON *sample_json(const struct sample *s)
{
	if (s->kind == SAMPLE_NUMBER)
		return cJSON_CreateNumber(s->number);
	if (s->kind == SAMPLE_BOOL)
		return cJSON_CreateBool(s->boolean);
	return cJSON_CreateString(s->text);
}

static void sample_text(const struct sample *s, char *buf, size_t len)
{
	if (s->kind == SAMPLE_NUMBER)
		snprintf(buf, len, "%.15g", s->number);
	else if (s->kind == SAMPLE_BOOL)
		snprintf(buf, len, "%s", s->boolean ? "true" : "false");
	else
		snprintf(buf, len, "%s", s->text);
}

const char *example_senml_unit(const struct unit *u, int humidity)
{
	static const char *const names[] = {
		"Cel", "K", "%", "m", "cm", "mm", "km", "m/s", "km/h", "W", "kW", "Wh", "kWh",
		"J", "V", "mV", "A", "mA", "lx", "Pa", "hPa", "s", "min", "h", "ppm", "ppb",
		"ug/m3", "mg/m3", "W/m2", "count", "dBm", "Hz", NULL};

	if (u == NULL)
		return NULL;
	if (humidity && unit_find("%RH") != NULL &&
	    strcmp(unit_name(unit_find("%RH")), unit_name(u)) == 0)
		return "%RH";
	for (int i = 0; names[i] != NULL; i++) {
		const struct unit *c = unit_find(names[i]);
		if (c != NULL && strcmp(unit_name(c), unit_name(u)) == 0)
			return names[i];
	}
	return NULL;
}

/* ---- topics ---- */

static int highest_level(const struct norm_source *src)
{
	int top = src->device_topic_level > src->field_topic_level ? src->device_topic_level
								   : src->field_topic_level;
	for (size_t i = 0; i < src->n_mappings; i++)
		if (src->mappings[i].topic_level > top)
			top = src->mappings[i].topic_level;
	return top;
}

/* What fills wildcard level `level` (1-based): the device id, the scalar field's name, a
 * value of a field read from the topic, or else a device-like id. */
static void level_text(const struct build *b, int level, const struct norm_mapping *scalar,
		       char *buf, size_t len)
{
	const struct norm_source *src = b->src;
	struct sample s;

	snprintf(buf, len, "%s", b->in->device);
	if (level == src->device_topic_level)
		return;
	if (scalar != NULL && level == src->field_topic_level) {
		snprintf(buf, len, "%s", scalar->names[0]);
		return;
	}
	for (size_t i = 0; i < src->n_mappings; i++) {
		const struct norm_mapping *m = &src->mappings[i];
		if (m->topic_level == level) {
			sample_for(b, m, 0, &s);
			sample_text(&s, buf, len);
			return;
		}
	}
}

/* The filter with its wildcards filled in; '#' becomes as many levels as are read. */
static int build_topic(const struct build *b, const struct norm_mapping *scalar,
		       struct norm_buf *out)
{
	const struct norm_source *src = b->src;
	const char *p = src->topic;
	char text[160];
	int level = 1, rc = 0;

	while (p != NULL && rc == 0) {
		const char *slash = strchr(p, '/');
		int n = slash ? (int)(slash - p) : (int)strlen(p);
		if (n == 1 && p[0] == '#') {
			int end = highest_level(src) > level ? highest_level(src) : level;
			for (; level <= end && rc == 0; level++) {
				level_text(b, level, scalar, text, sizeof(text));
				rc = norm_buf_printf(out, "%s%s", level > 1 ? "/" : "", text);
			}
			break;
		}
		if (n == 1 && p[0] == '+')
			level_text(b, level, scalar, text, sizeof(text));
		else
			snprintf(text, sizeof(text), "%.*s", n, p);
		rc = norm_buf_printf(out, "%s%s", level > 1 ? "/" : "", text);
		level++;
		p = slash ? slash + 1 : NULL;
	}
	return rc;
}

/* ---- JSON payloads ---- */

/*
 * Puts value at p (under the message root for "$." paths) unless something is already
 * there: two mappings may read one payload value (a status as a boolean and as an enum),
 * and a "$." path is shared by every record of a batch; the first choice stands.
 */
static int place(struct build *b, cJSON *root, cJSON *item, const struct norm_path *p,
		 cJSON *value)
{
	cJSON *under = p->from_root ? root : item;

	if (value == NULL)
		return fail(b->err, b->errlen, "out of memory");
	if (json_path_get(p->path, under) != NULL) {
		cJSON_Delete(value);
		return 0;
	}
	if (json_path_set(p->path, under, value) < 0)
		return fail(b->err, b->errlen, "cannot place a value at %s%s%s", p->from_root ? "$." : "",
			    json_path_text(p->path),
			    cJSON_IsArray(under) ? " (the message root is the batch array)"
						 : ": another path is in the way");
	return 0;
}

static cJSON *geojson_point(const struct example_input *in)
{
	const double coords[2] = {in->lon, in->lat}; /* GeoJSON: longitude first */
	cJSON *pt = cJSON_CreateObject();
	cJSON *c = cJSON_CreateDoubleArray(coords, 2);

	if (pt == NULL || c == NULL || cJSON_AddStringToObject(pt, "type", "Point") == NULL ||
	    !cJSON_AddItemToObject(pt, "coordinates", c)) {
		cJSON_Delete(pt);
		cJSON_Delete(c);
		return NULL;
	}
	return pt;
}

static int place_geo(struct build *b, cJSON *root, cJSON *item, const struct norm_mapping *m)
{
	if (m->geojson.path != NULL)
		return place(b, root, item, &m->geojson, geojson_point(b->in));
	if (place(b, root, item, &m->lat, cJSON_CreateNumber(b->in->lat)) < 0)
		return -1;
	return place(b, root, item, &m->lon, cJSON_CreateNumber(b->in->lon));
}

/* A time as the source reads it; ISO 8601 in Korea Standard Time, as a local device
 * would send it (the normalizer turns it into UTC). */
static cJSON *time_value(enum norm_time_as as, int64_t ms)
{
	char iso[48];
	struct tm tm;
	time_t t = (time_t)(ms / 1000) + 9 * 3600;

	if (as == NORM_TIME_UNIX_S)
		return cJSON_CreateNumber((double)(ms / 1000));
	if (as == NORM_TIME_UNIX_MS)
		return cJSON_CreateNumber((double)ms);
	if (gmtime_r(&t, &tm) == NULL || strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S+09:00", &tm) == 0)
		return NULL;
	return cJSON_CreateString(iso);
}

/* Fills one record: item is the record object, root the message (they are one for json). */
static int fill_record(struct build *b, cJSON *root, cJSON *item, int index)
{
	const struct norm_source *src = b->src;
	int64_t step = b->in->step_ms > 0 ? b->in->step_ms : src->standard->interval_ms;
	int64_t when = b->in->time_ms + index * step;
	struct sample s;

	if (src->device_path.path != NULL &&
	    place(b, root, item, &src->device_path, cJSON_CreateString(b->in->device)) < 0)
		return -1;
	if (src->n_time_paths > 0 &&
	    place(b, root, item, &src->time_paths[0], time_value(src->time_as, when)) < 0)
		return -1;
	for (size_t i = 0; i < src->n_mappings; i++) {
		const struct norm_mapping *m = &src->mappings[i];
		const struct norm_field *f = &src->standard->fields[m->field];
		int rc = 0;
		if (f->type == NORM_GEO) {
			rc = place_geo(b, root, item, m);
		} else if (m->topic_level == 0 && m->n_paths > 0) {
			sample_for(b, m, index, &s);
			rc = place(b, root, item, &m->paths[0], sample_json(&s));
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static cJSON *json_message(struct build *b)
{
	cJSON *root = cJSON_CreateObject();

	if (root == NULL) {
		fail(b->err, b->errlen, "out of memory");
		return NULL;
	}
	if (fill_record(b, root, root, 0) < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* An array of records, or an object holding it at the batch path. The records are filled
 * before the array is placed, so the shared "$." values come first in the object. */
static cJSON *batch_message(struct build *b)
{
	const struct norm_path *batch = &b->src->batch;
	cJSON *root = batch->path ? cJSON_CreateObject() : cJSON_CreateArray();
	cJSON *list = batch->path ? cJSON_CreateArray() : root;
	int rc = root && list ? 0 : fail(b->err, b->errlen, "out of memory");

	for (int i = 0; i < b->in->records && rc == 0; i++) {
		cJSON *item = cJSON_CreateObject();
		if (item == NULL || !cJSON_AddItemToArray(list, item))
			rc = fail(b->err, b->errlen, "out of memory");
		else
			rc = fill_record(b, root, item, i);
	}
	if (batch->path != NULL) {
		cJSON *owned = list;
		list = NULL;
		if (rc == 0 && root != NULL && json_path_set(batch->path, root, owned) < 0)
			rc = fail(b->err, b->errlen, "cannot place the batch at %s",
				  json_path_text(batch->path));
		else if (rc != 0 || root == NULL)
			cJSON_Delete(owned);
	}
	if (rc != 0) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* ---- SenML ---- */

/* A new record named name; the first one carries the base name and base time. */
static cJSON *senml_record(struct build *b, cJSON *pack, const char *name)
{
	cJSON *rec = cJSON_CreateObject();
	char bn[160];
	int ok = 1;

	if (rec == NULL || !cJSON_AddItemToArray(pack, rec)) {
		cJSON_Delete(rec);
		fail(b->err, b->errlen, "out of memory");
		return NULL;
	}
	if (cJSON_GetArraySize(pack) == 1) {
		snprintf(bn, sizeof(bn), "urn:dev:%s:", b->in->device);
		if (b->src->device_topic_level == 0)
			ok = cJSON_AddStringToObject(rec, "bn", bn) != NULL;
		ok = ok && cJSON_AddNumberToObject(rec, "bt", (double)(b->in->time_ms / 1000)) != NULL;
	}
	if (!ok || cJSON_AddStringToObject(rec, "n", name) == NULL) {
		fail(b->err, b->errlen, "out of memory");
		return NULL; /* rec belongs to pack */
	}
	return rec;
}

static int senml_value(struct build *b, cJSON *pack, const struct norm_mapping *m)
{
	const struct norm_field *f = &b->src->standard->fields[m->field];
	struct sample s;
	cJSON *rec = senml_record(b, pack, m->names[0]);
	const char *u = NULL;
	int ok;

	if (rec == NULL)
		return -1;
	sample_for(b, m, 0, &s);
	if (s.kind == SAMPLE_NUMBER && m->n_map == 0)
		u = example_senml_unit(m->unit ? m->unit : f->unit, strstr(f->name, "humid") != NULL);
	ok = u == NULL || cJSON_AddStringToObject(rec, "u", u) != NULL;
	if (s.kind == SAMPLE_NUMBER)
		ok = ok && cJSON_AddNumberToObject(rec, "v", s.number) != NULL;
	else if (s.kind == SAMPLE_BOOL)
		ok = ok && cJSON_AddBoolToObject(rec, "vb", s.boolean) != NULL;
	else
		ok = ok && cJSON_AddStringToObject(rec, "vs", s.text) != NULL;
	return ok ? 0 : fail(b->err, b->errlen, "out of memory");
}

/* A geo point is two records, latitude and longitude, in SenML's own units. */
static int senml_geo(struct build *b, cJSON *pack, const struct norm_mapping *m)
{
	cJSON *lat = senml_record(b, pack, m->names[0]);
	if (lat == NULL || cJSON_AddStringToObject(lat, "u", "lat") == NULL ||
	    cJSON_AddNumberToObject(lat, "v", b->in->lat) == NULL)
		return fail(b->err, b->errlen, "out of memory");
	cJSON *lon = senml_record(b, pack, m->names[1]);
	if (lon == NULL || cJSON_AddStringToObject(lon, "u", "lon") == NULL ||
	    cJSON_AddNumberToObject(lon, "v", b->in->lon) == NULL)
		return fail(b->err, b->errlen, "out of memory");
	return 0;
}

static cJSON *senml_message(struct build *b)
{
	cJSON *pack = cJSON_CreateArray();
	int rc = pack ? 0 : fail(b->err, b->errlen, "out of memory");

	for (size_t i = 0; i < b->src->n_mappings && rc == 0; i++) {
		const struct norm_mapping *m = &b->src->mappings[i];
		if (b->src->standard->fields[m->field].type == NORM_GEO)
			rc = m->n_names == 2 ? senml_geo(b, pack, m) : 0;
		else if (m->n_names > 0)
			rc = senml_value(b, pack, m);
	}
	if (rc != 0) {
		cJSON_Delete(pack);
		return NULL;
	}
	return pack;
}

/* ---- the set ---- */

/* Appends an example with payload (taken over, freed here on failure). */
static int add_example(struct build *b, struct example_set *set, const struct norm_mapping *m,
		       char *payload)
{
	struct norm_buf topic = {0};
	struct example *grown = realloc(set->items, (set->n + 1) * sizeof(*grown));

	if (grown != NULL)
		set->items = grown;
	if (grown == NULL || payload == NULL || build_topic(b, m, &topic) != 0) {
		free(payload);
		norm_buf_free(&topic);
		return fail(b->err, b->errlen, "out of memory");
	}
	set->items[set->n++] = (struct example){topic.data, payload, m, NULL};
	return 0;
}

static int scalar_examples(struct build *b, struct example_set *set)
{
	char text[160];
	struct sample s;

	for (size_t i = 0; i < b->src->n_mappings; i++) {
		const struct norm_mapping *m = &b->src->mappings[i];
		if (m->n_names == 0)
			continue;
		sample_for(b, m, 0, &s);
		sample_text(&s, text, sizeof(text));
		if (add_example(b, set, m, strdup(text)) < 0)
			return -1;
	}
	return 0;
}

/*
 * cJSON_Print indents with tabs and puts a tab after each colon; vendors paste these
 * examples into their own code, so they get the usual two spaces. A raw tab is always
 * layout: cJSON escapes tabs inside strings. Caller frees the result with free().
 */
static char *reindent(const char *s)
{
	struct norm_buf b = {0};
	int bol = 1;

	for (; *s != '\0'; s++) {
		const char *rep = NULL;
		if (*s == '\t')
			rep = bol ? "  " : " ";
		else
			bol = *s == '\n';
		if (norm_buf_append(&b, rep ? rep : s, rep ? strlen(rep) : 1) != 0) {
			norm_buf_free(&b);
			return NULL;
		}
	}
	return b.data;
}

int example_build(const struct norm_source *src, struct example_set *set, char *err,
		  size_t errlen)
{
	const struct example_input in = {EXAMPLE_DEVICE, EXAMPLE_TIME_MS, 0, EXAMPLE_LAT,
					 EXAMPLE_LON, EXAMPLE_BATCH, 0, NULL};

	return example_build_from(src, &in, set, err, errlen);
}

int example_build_from(const struct norm_source *src, const struct example_input *in,
		       struct example_set *set, char *err, size_t errlen)
{
	struct build b = {src, in, err, errlen};
	cJSON *msg;

	if (src->format == NORM_FMT_SCALAR)
		return scalar_examples(&b, set);
	msg = src->format == NORM_FMT_JSON	   ? json_message(&b)
	      : src->format == NORM_FMT_JSON_BATCH ? batch_message(&b)
						   : senml_message(&b);
	if (msg == NULL)
		return -1;
	char *printed = in->compact ? cJSON_PrintUnformatted(msg) : cJSON_Print(msg);
	char *payload = printed == NULL ? NULL : in->compact ? strdup(printed) : reindent(printed);
	cJSON_free(printed);
	cJSON_Delete(msg);
	return add_example(&b, set, NULL, payload);
}

/* ---- verification ---- */

/* Every field the message carries must come through, or the example teaches nothing. */
static int check_fields(const struct norm_source *src, const struct example *ex,
			const struct norm_record *rec, char *err, size_t errlen)
{
	for (size_t i = 0; i < src->n_mappings; i++) {
		const struct norm_mapping *m = &src->mappings[i];
		if (ex->mapping != NULL && m != ex->mapping)
			continue;
		if (!rec->values[m->field].present)
			return fail(err, errlen, "the example on %s does not yield field %s", ex->topic,
				    src->standard->fields[m->field].name);
	}
	return 0;
}

static int verify_one(const struct norm_schema *s, const struct norm_source *src,
		      struct example *ex, struct norm_result *r, char *err, size_t errlen)
{
	struct norm_buf lines = {0};
	int rc = norm_normalize(s, NULL, ex->topic, strlen(ex->topic), ex->payload,
				strlen(ex->payload), EXAMPLE_TIME_MS, r);

	if (rc == NORM_ENOMEM)
		return fail(err, errlen, "out of memory");
	if (rc != NORM_OK)
		return fail(err, errlen, "the example on %s is refused: %s", ex->topic,
			    norm_result_reason(r));
	if (norm_result_source(r) != src)
		return fail(err, errlen, "the example topic %s belongs to source %s", ex->topic,
			    norm_result_source(r) ? norm_result_source(r)->id : "(none)");
	for (size_t i = 0; i < norm_result_count(r); i++) {
		const struct norm_record *rec = norm_result_record(r, i);
		if (check_fields(src, ex, rec, err, errlen) < 0) {
			norm_buf_free(&lines);
			return -1;
		}
		if (norm_record_json(rec, &lines) != NORM_OK || norm_buf_append(&lines, "\n", 1) != NORM_OK) {
			norm_buf_free(&lines);
			return fail(err, errlen, "out of memory");
		}
	}
	ex->records = lines.data;
	return 0;
}

int example_verify(const struct norm_schema *s, const struct norm_source *src,
		   struct example_set *set, char *err, size_t errlen)
{
	struct norm_result *r = norm_result_create();
	int rc = r ? 0 : fail(err, errlen, "out of memory");

	for (size_t i = 0; i < set->n && rc == 0; i++)
		rc = verify_one(s, src, &set->items[i], r, err, errlen);
	norm_result_free(r);
	return rc;
}

void example_set_free(struct example_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->items[i].topic);
		free(set->items[i].payload);
		free(set->items[i].records);
	}
	free(set->items);
	set->items = NULL;
	set->n = 0;
}
