/*
 * SenML (RFC 8428) packs: resolve base fields into each record, then gather the records
 * of one (device, time) into one linkage-standard record. A field's SenML name is the
 * record's "n" (the part after the base name); the device is the base name.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "normalizer/norm_internal.h"
#include "normalizer/units.h"

/* RFC 8428 §4.5.3: times below 2**28 s are relative to now. */
#define SENML_RELATIVE_LIMIT 268435456.0

struct senml_base {
	const char *bn;
	double bt, bv, bs;
	const char *bu;
};

struct senml_entry {
	const char *name;
	const char *unit;
	int64_t time_ms;
	const cJSON *v, *vs, *vb, *s;
	double shift; /* bv for v, bs for s */
};

static int want_type(struct norm_result *r, const cJSON *j, int is_number, const char *key)
{
	int ok = is_number ? cJSON_IsNumber(j) : cJSON_IsString(j);
	if (!ok)
		return reject(r, "SenML field \"%s\" must be %s", key, is_number ? "a number" : "text");
	return NORM_OK;
}

/* Base fields change the base for this and every later record. */
static int apply_base(struct norm_result *r, const cJSON *rec, struct senml_base *b)
{
	for (const cJSON *f = rec->child; f != NULL; f = f->next) {
		const char *k = f->string;
		if (k[0] != 'b')
			continue;
		if (strcmp(k, "bn") == 0 || strcmp(k, "bu") == 0) {
			if (want_type(r, f, 0, k) != NORM_OK)
				return NORM_REJECT;
			*(k[1] == 'n' ? &b->bn : &b->bu) = f->valuestring;
		} else if (strcmp(k, "bt") == 0 || strcmp(k, "bv") == 0 || strcmp(k, "bs") == 0 ||
			   strcmp(k, "bver") == 0) {
			if (want_type(r, f, 1, k) != NORM_OK)
				return NORM_REJECT;
			if (k[1] == 't')
				b->bt = f->valuedouble;
			else if (k[1] == 'v' && k[2] == '\0')
				b->bv = f->valuedouble;
			else if (k[1] == 's')
				b->bs = f->valuedouble;
		}
	}
	return NORM_OK;
}

static int check_record_fields(struct norm_result *r, const cJSON *rec)
{
	static const char *const numbers[] = {"v", "t", "s", "ut", NULL};
	static const char *const texts[] = {"n", "u", "vs", "vd", NULL};
	for (const cJSON *f = rec->child; f != NULL; f = f->next) {
		size_t len = strlen(f->string);
		if (len > 0 && f->string[len - 1] == '_')
			return reject(r, "SenML field \"%s\" must be understood and is not supported",
				      f->string);
		for (int i = 0; numbers[i]; i++)
			if (strcmp(f->string, numbers[i]) == 0 && want_type(r, f, 1, f->string))
				return NORM_REJECT;
		for (int i = 0; texts[i]; i++)
			if (strcmp(f->string, texts[i]) == 0 && want_type(r, f, 0, f->string))
				return NORM_REJECT;
		if (strcmp(f->string, "vb") == 0 && !cJSON_IsBool(f))
			return reject(r, "SenML field \"vb\" must be true or false");
	}
	return NORM_OK;
}

static int resolve_time(struct norm_result *r, const struct senml_base *b, const cJSON *t,
			int64_t *ms)
{
	double secs = b->bt + (t ? t->valuedouble : 0);
	if (!isfinite(secs) || fabs(secs) > 253402300799.0)
		return reject(r, "time: SenML time %g is out of range", secs);
	if (secs < SENML_RELATIVE_LIMIT)
		*ms = r->received_ms + (int64_t)llround(secs * 1000.0);
	else
		*ms = (int64_t)llround(secs * 1000.0);
	return NORM_OK;
}

/* Which mapping (and for geo, which half) a SenML name belongs to. */
static const struct norm_mapping *find_mapping(const struct norm_source *src, const char *name,
					       int *geo_half)
{
	for (size_t i = 0; i < src->n_mappings; i++) {
		const struct norm_mapping *m = &src->mappings[i];
		for (size_t j = 0; j < m->n_names; j++) {
			if (strcmp(m->names[j], name) == 0) {
				*geo_half = (int)j;
				return m;
			}
		}
	}
	return NULL;
}

static struct norm_record *record_for(struct norm_result *r, const char *device, int64_t time_ms,
				      size_t first)
{
	for (size_t i = first; i < r->n_records; i++)
		if (r->records[i].time_ms == time_ms && strcmp(r->records[i].device, device) == 0)
			return &r->records[i];
	return NULL;
}

static int entry_device(struct norm_result *r, const struct norm_source *src, const char *bn,
			struct raw *out)
{
	if (src->device_topic_level > 0) {
		if (src->device_topic_level > r->n_levels)
			return reject(r, "device: the topic has no level %d", src->device_topic_level);
		raw_from_text(r->levels[src->device_topic_level - 1],
			      r->level_len[src->device_topic_level - 1], out);
		return NORM_OK;
	}
	if (bn == NULL || bn[0] == '\0')
		return reject(r, "device: the pack has no base name (bn)");
	size_t len = strlen(bn);
	/* "urn:dev:ow:10e2073a01080063:" names the device; the separator belongs to n. */
	if (len > 1 && (bn[len - 1] == ':' || bn[len - 1] == '/' || bn[len - 1] == '.'))
		len--;
	out->text = bn;
	out->len = len;
	return NORM_OK;
}

static int set_geo_half(struct norm_result *r, const struct norm_field *f, int half,
			const struct senml_entry *e, struct norm_value *v, unsigned char *seen)
{
	double lo = half == 0 ? -90 : -180, hi = -lo;
	if (!cJSON_IsNumber(e->v) || !(e->v->valuedouble >= lo && e->v->valuedouble <= hi))
		return reject(r, "%s: %s must be a number within %g..%g", f->name,
			      half == 0 ? "latitude" : "longitude", lo, hi);
	*(half == 0 ? &v->lat : &v->lon) = e->v->valuedouble;
	*seen |= (unsigned char)(1u << half);
	v->present = *seen == 3;
	return NORM_OK;
}

static int entry_value(struct norm_result *r, const struct senml_entry *e, const struct norm_field *f,
		       const struct norm_mapping *m, struct norm_value *v)
{
	const struct unit *unit = NULL;
	struct raw raw;
	const cJSON *j = e->v ? e->v : e->s ? e->s : e->vs ? e->vs : e->vb;

	if (j == NULL)
		return reject(r, "%s: the SenML record has no value", f->name);
	if (raw_from_json(r, j, f->name, &raw) != NORM_OK)
		return NORM_REJECT;
	if (e->shift != 0)
		raw.number += e->shift;
	if (e->unit != NULL && (unit = unit_find(e->unit)) == NULL)
		return reject(r, "%s: SenML unit \"%s\" is not known", f->name, e->unit);
	if (unit != NULL && f->unit == NULL)
		unit = NULL; /* a unit on a unitless field (count of "count") says nothing more */
	return value_set(r, f, m, unit, &raw, v);
}

static int add_entry(struct norm_result *r, const struct norm_source *src, const struct senml_entry *e,
		     const char *bn, size_t first, unsigned char *geo_seen)
{
	int half, rc;
	struct raw dev;
	const struct norm_mapping *m = find_mapping(src, e->name, &half);
	if (m == NULL)
		return NORM_OK; /* a name the source does not map: not ours to store */
	if ((rc = entry_device(r, src, bn, &dev)) != NORM_OK)
		return rc;
	char *device = arena_strndup(r, dev.text, dev.len);
	if (device == NULL)
		return NORM_ENOMEM;
	struct norm_record *rec = record_for(r, device, e->time_ms, first);
	if (rec == NULL) {
		rec = record_new(r);
		if ((rc = record_set_device(r, rec, device, dev.len)) != NORM_OK)
			return rc;
		rec->time_ms = e->time_ms;
	}
	const struct norm_field *f = &src->standard->fields[m->field];
	struct norm_value *v = (struct norm_value *)&rec->values[m->field];
	if (v->present)
		return reject(r, "%s: given twice for device %s at one time", f->name, device);
	if (f->type == NORM_GEO)
		return set_geo_half(r, f, half, e, v, &geo_seen[rec - r->records]);
	return entry_value(r, e, f, m, v);
}

static int read_entry(struct norm_result *r, const cJSON *rec, const struct senml_base *b,
		      struct senml_entry *e)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, "n");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(rec, "u");

	memset(e, 0, sizeof(*e));
	e->name = n ? n->valuestring : "";
	e->unit = u ? u->valuestring : b->bu;
	e->v = cJSON_GetObjectItemCaseSensitive(rec, "v");
	e->vs = cJSON_GetObjectItemCaseSensitive(rec, "vs");
	e->vb = cJSON_GetObjectItemCaseSensitive(rec, "vb");
	e->s = cJSON_GetObjectItemCaseSensitive(rec, "s");
	e->shift = e->v ? b->bv : e->s ? b->bs : 0;
	return resolve_time(r, b, cJSON_GetObjectItemCaseSensitive(rec, "t"), &e->time_ms);
}

int normalize_senml(struct norm_result *r, const struct norm_source *src, const cJSON *root)
{
	struct senml_base b = {0};
	struct senml_entry e;
	int n, rc, i = 0;

	if (!cJSON_IsArray(root))
		return reject(r, "payload is not a SenML pack (a JSON array of records)");
	n = cJSON_GetArraySize(root);
	if ((size_t)n > r->limits->max_records)
		return reject(r, "SenML pack has %d records, more than the limit of %zu", n,
			      r->limits->max_records);
	unsigned char *geo_seen = arena_zalloc(r, (size_t)n + 1);
	if (geo_seen == NULL || (rc = records_reserve(r, (size_t)n + 1)) != NORM_OK)
		return NORM_ENOMEM;
	for (const cJSON *rec = root->child; rec != NULL && i < n; rec = rec->next, i++) {
		r->record_index = i;
		if (!cJSON_IsObject(rec))
			return reject(r, "a SenML record must be a JSON object");
		if ((rc = check_record_fields(r, rec)) != NORM_OK || (rc = apply_base(r, rec, &b)) != NORM_OK ||
		    (rc = read_entry(r, rec, &b, &e)) != NORM_OK ||
		    (rc = add_entry(r, src, &e, b.bn, 0, geo_seen)) != NORM_OK)
			return rc;
	}
	r->record_index = -1;
	if (r->n_records == 0)
		return reject(r, "no record in the SenML pack has a name this source maps");
	for (size_t k = 0; k < r->n_records; k++)
		if ((rc = record_finish(r, &r->records[k])) != NORM_OK)
			return rc;
	return NORM_OK;
}
