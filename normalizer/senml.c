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

/* What carries over from record to record while one pack is read. */
struct pack {
	const struct norm_source *src;
	const char *bn_seen;      /* the base name device was made from */
	const char *device;       /* validated, in the result's arena */
	unsigned char *geo_seen;  /* per record: which halves of a geo point arrived */
	const char *unit_name;    /* the last SenML unit looked up (bu repeats it) ... */
	const struct unit *unit;  /* ... and what it named */
};

enum senml_key {
	K_OTHER, K_MUST_UNDERSTAND, K_BN, K_BT, K_BU, K_BV, K_BS, K_BVER,
	K_N, K_U, K_V, K_VS, K_VB, K_VD, K_S, K_T, K_UT,
};

/* RFC 8428 §4.1-4.2 labels, recognised by length and bytes: this runs for every key of
 * every record of every pack. */
static enum senml_key classify(const char *k)
{
	size_t len = strlen(k);
	if (len > 0 && k[len - 1] == '_')
		return K_MUST_UNDERSTAND;
	if (len == 1) {
		switch (k[0]) {
		case 'n': return K_N;
		case 'u': return K_U;
		case 'v': return K_V;
		case 's': return K_S;
		case 't': return K_T;
		default: return K_OTHER;
		}
	}
	if (len == 2 && k[0] == 'b') {
		switch (k[1]) {
		case 'n': return K_BN;
		case 't': return K_BT;
		case 'u': return K_BU;
		case 'v': return K_BV;
		case 's': return K_BS;
		default: return K_OTHER;
		}
	}
	if (len == 2 && k[0] == 'v') {
		switch (k[1]) {
		case 's': return K_VS;
		case 'b': return K_VB;
		case 'd': return K_VD;
		default: return K_OTHER;
		}
	}
	if (len == 2 && k[0] == 'u' && k[1] == 't')
		return K_UT;
	if (len == 4 && memcmp(k, "bver", 4) == 0)
		return K_BVER;
	return K_OTHER;
}

/* Each label's JSON type, so a pack cannot smuggle text in as a number. */
static int check_type(struct norm_result *r, const cJSON *f, enum senml_key k)
{
	switch (k) {
	case K_BN: case K_BU: case K_N: case K_U: case K_VS: case K_VD:
		if (!cJSON_IsString(f))
			return reject(r, "SenML field \"%s\" must be text", f->string);
		return NORM_OK;
	case K_VB:
		if (!cJSON_IsBool(f))
			return reject(r, "SenML field \"vb\" must be true or false");
		return NORM_OK;
	case K_OTHER:
		return NORM_OK;
	case K_MUST_UNDERSTAND:
		return reject(r, "SenML field \"%s\" must be understood and is not supported",
			      f->string);
	default:
		if (!cJSON_IsNumber(f))
			return reject(r, "SenML field \"%s\" must be a number", f->string);
		return NORM_OK;
	}
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

/* Records of one pack share device strings, so a pointer compares them. The newest
 * record is the likeliest match (packs list one time's readings together). */
static struct norm_record *record_for(struct norm_result *r, const char *device, int64_t time_ms)
{
	for (size_t i = r->n_records; i-- > 0;)
		if (r->records[i].time_ms == time_ms && r->records[i].device == device)
			return &r->records[i];
	return NULL;
}

static int entry_device(struct norm_result *r, const struct norm_source *src, const char *bn,
			struct raw *out)
{
	if (src->device_topic_level > 0) {
		if (src->device_topic_level > r->n_levels)
			return reject(r, "device: the topic has no level %d", src->device_topic_level);
		out->text = r->levels[src->device_topic_level - 1];
		out->len = r->level_len[src->device_topic_level - 1];
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

static int entry_value(struct norm_result *r, struct pack *p, const struct senml_entry *e,
		       const struct norm_field *f, const struct norm_mapping *m, struct norm_value *v)
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
	if (e->unit != NULL && e->unit == p->unit_name) {
		unit = p->unit;
	} else if (e->unit != NULL) {
		if ((unit = unit_find(e->unit)) == NULL)
			return reject(r, "%s: SenML unit \"%s\" is not known", f->name, e->unit);
		p->unit_name = e->unit;
		p->unit = unit;
	}
	if (unit != NULL && f->unit == NULL)
		unit = NULL; /* a unit on a unitless field (count of "count") says nothing more */
	return value_set(r, f, m, unit, &raw, v);
}


/* The device of the current record, made (and checked) once per base name. */
static int pack_device(struct norm_result *r, struct pack *p, const char *bn)
{
	struct raw dev = {0};
	int rc;
	if (p->device != NULL && (p->src->device_topic_level > 0 || bn == p->bn_seen))
		return NORM_OK;
	if ((rc = entry_device(r, p->src, bn, &dev)) != NORM_OK ||
	    (rc = device_check(r, dev.text, dev.len)) != NORM_OK)
		return rc;
	p->device = arena_strndup(r, dev.text, dev.len);
	p->bn_seen = bn;
	return p->device ? NORM_OK : NORM_ENOMEM;
}

static int add_entry(struct norm_result *r, struct pack *p, const struct senml_entry *e,
		     const char *bn)
{
	int half, rc;
	const struct norm_mapping *m = find_mapping(p->src, e->name, &half);
	if (m == NULL)
		return NORM_OK; /* a name the source does not map: not ours to store */
	if ((rc = pack_device(r, p, bn)) != NORM_OK)
		return rc;
	struct norm_record *rec = record_for(r, p->device, e->time_ms);
	if (rec == NULL) {
		rec = record_new(r);
		rec->device = p->device;
		rec->time_ms = e->time_ms;
	}
	const struct norm_field *f = &p->src->standard->fields[m->field];
	struct norm_value *v = (struct norm_value *)&rec->values[m->field];
	if (v->present)
		return reject(r, "%s: given twice for device %s at one time", f->name, p->device);
	if (f->type == NORM_GEO)
		return set_geo_half(r, f, half, e, v, &p->geo_seen[rec - r->records]);
	return entry_value(r, p, e, f, m, v);
}

/* One pass over a record: type checks, base fields (which apply from this record on) and
 * the record's own name, unit, value and time. */
static int read_record(struct norm_result *r, const cJSON *rec, struct senml_base *b,
		       struct senml_entry *e)
{
	const cJSON *t = NULL;
	const char *unit = NULL;

	memset(e, 0, sizeof(*e));
	e->name = "";
	for (const cJSON *f = rec->child; f != NULL; f = f->next) {
		enum senml_key k = classify(f->string);
		if (check_type(r, f, k) != NORM_OK)
			return NORM_REJECT;
		switch (k) {
		case K_BN: b->bn = f->valuestring; break;
		case K_BU: b->bu = f->valuestring; break;
		case K_BT: b->bt = f->valuedouble; break;
		case K_BV: b->bv = f->valuedouble; break;
		case K_BS: b->bs = f->valuedouble; break;
		case K_N: e->name = f->valuestring; break;
		case K_U: unit = f->valuestring; break;
		case K_V: e->v = f; break;
		case K_VS: e->vs = f; break;
		case K_VB: e->vb = f; break;
		case K_S: e->s = f; break;
		case K_T: t = f; break;
		default: break;
		}
	}
	e->unit = unit ? unit : b->bu;
	e->shift = e->v ? b->bv : e->s ? b->bs : 0;
	return resolve_time(r, b, t, &e->time_ms);
}

int normalize_senml(struct norm_result *r, const struct norm_source *src, const cJSON *root)
{
	struct senml_base b = {0};
	struct pack p = {.src = src};
	struct senml_entry e;
	int n, rc, i = 0;

	if (!cJSON_IsArray(root))
		return reject(r, "payload is not a SenML pack (a JSON array of records)");
	n = cJSON_GetArraySize(root);
	if ((size_t)n > r->limits->max_records)
		return reject(r, "SenML pack has %d records, more than the limit of %zu", n,
			      r->limits->max_records);
	p.geo_seen = arena_zalloc(r, (size_t)n + 1);
	if (p.geo_seen == NULL || (rc = records_reserve(r, (size_t)n + 1)) != NORM_OK)
		return NORM_ENOMEM;
	for (const cJSON *rec = root->child; rec != NULL && i < n; rec = rec->next, i++) {
		r->record_index = i;
		if (!cJSON_IsObject(rec))
			return reject(r, "a SenML record must be a JSON object");
		if ((rc = read_record(r, rec, &b, &e)) != NORM_OK ||
		    (rc = add_entry(r, &p, &e, b.bn)) != NORM_OK)
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
