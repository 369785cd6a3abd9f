/* Loading one source file: how a vendor's payloads map onto a standard. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/json_path.h"
#include "normalizer/loaders.h"
#include "normalizer/schema.h"
#include "normalizer/timefmt.h"
#include "normalizer/topic_index.h"
#include "normalizer/units.h"

static const char *const source_keys[] = {"source", "standard", "title", "vendor",
					  "description", "topic", "format", "batch",
					  "device", "time", "field", "fields", NULL};
static const char *const mapping_keys[] = {"path", "unit", "scale", "offset", "map",
					   "topic", "lat", "lon", "geojson", NULL};
static const char *const format_names[] = {"json", "json-batch", "senml", "scalar", NULL};
static const char *const time_as_names[] = {"unix_s", "unix_ms", "iso8601", NULL};

static void oom(struct yctx *c)
{
	c->d->oom = 1;
	c->errors++;
}

static int load_path(struct yctx *c, const struct ynode *n, const char *what,
		     struct norm_path *out)
{
	char err[160];
	const char *text;
	int rc;

	if (yscalar(c, n, what) < 0)
		return -1;
	text = n->text;
	out->from_root = strncmp(text, "$.", 2) == 0;
	if (out->from_root)
		text += 2;
	rc = json_path_compile(text, &out->path, err, sizeof(err));
	if (rc == -2) {
		oom(c);
		return -1;
	}
	if (rc < 0) {
		yerr(c, n, "%s \"%s\": %s", what, n->text, err);
		return -1;
	}
	return 0;
}

static int load_path_list(struct yctx *c, const struct ynode *n, const char *what,
			  struct norm_path **out, size_t *count)
{
	size_t items = n->kind == YNODE_SEQ ? n->n : 1;

	if (n->kind == YNODE_MAP || items == 0) {
		yerr(c, n, "%s must be a path or a list of alternative paths", what);
		return -1;
	}
	*out = calloc(items, sizeof(**out));
	if (*out == NULL) {
		oom(c);
		return -1;
	}
	*count = items;
	for (size_t i = 0; i < items; i++)
		load_path(c, n->kind == YNODE_SEQ ? n->kids[i] : n, what, &(*out)[i]);
	return 0;
}

static void path_clear(struct norm_path *p)
{
	json_path_free(p->path);
	p->path = NULL;
}

/* A topic level that names a device or a field must vary: it must be '+' or under '#'. */
static int load_topic_level(struct yctx *c, const struct ynode *n, const char *topic,
			    const char *what, int *out)
{
	long level;
	if (yinteger(c, n, what, 1, 64, &level) < 0)
		return -1;
	if (topic == NULL)
		return 0;
	int count = topic_level_count(topic, strlen(topic));
	const char *p = topic;
	for (long i = 1; i < level && p != NULL && i <= count; i++) {
		p = strchr(p, '/');
		p = p ? p + 1 : NULL;
	}
	int under_hash = strstr(topic, "#") != NULL && level >= count;
	if (!under_hash && (level > count || p == NULL)) {
		yerr(c, n, "%s %ld is beyond the %d levels of topic %s", what, level, count, topic);
		return -1;
	}
	if (!under_hash && !(p[0] == '+' && (p[1] == '/' || p[1] == '\0'))) {
		yerr(c, n, "%s %ld of topic %s is not a wildcard ('+'): it would be the same for "
		     "every message", what, level, topic);
		return -1;
	}
	*out = (int)level;
	return 0;
}

static int load_device(struct yctx *c, const struct ynode *n, struct norm_source *src)
{
	static const char *const keys[] = {"topic", "path", NULL};
	if (ymap_check(c, n, "device", keys) < 0)
		return -1;
	const struct ynode *t = ynode_get(n, "topic"), *p = ynode_get(n, "path");
	if ((t == NULL) == (p == NULL)) {
		yerr(c, n, "device needs exactly one of \"topic\" (a level) or \"path\"");
		return -1;
	}
	if (t != NULL)
		return load_topic_level(c, t, src->topic, "device topic level",
					&src->device_topic_level);
	if (src->format == NORM_FMT_SENML) {
		if (yscalar(c, p, "device path") < 0)
			return -1;
		if (strcmp(p->text, "bn") != 0) {
			yerr(c, p, "a SenML source takes the device from the base name: {path: bn}");
			return -1;
		}
		return 0;
	}
	return load_path(c, p, "device path", &src->device_path);
}

/* zone: "+09:00" or "UTC" — for vendors whose ISO 8601 times carry no offset. */
static int load_zone(struct yctx *c, const struct ynode *n, struct norm_source *src)
{
	if (yscalar(c, n, "zone") < 0)
		return -1;
	if (src->time_as != NORM_TIME_ISO8601) {
		yerr(c, n, "zone applies only to iso8601 times");
		return -1;
	}
	if (time_parse_offset(n->text, &src->time_zone) < 0) {
		yerr(c, n, "zone \"%s\" is not a UTC offset (UTC, +09:00, -0530)", n->text);
		return -1;
	}
	return 0;
}

static int load_time(struct yctx *c, const struct ynode *n, struct norm_source *src)
{
	static const char *const keys[] = {"path", "as", "zone", NULL};
	const struct ynode *zone;
	int as;

	if (ymap_check(c, n, "time", keys) < 0)
		return -1;
	const struct ynode *p = yrequire(c, n, "path", "time");
	const struct ynode *a = yrequire(c, n, "as", "time");
	if (p == NULL || a == NULL)
		return -1;
	if (src->format == NORM_FMT_SCALAR) {
		yerr(c, n, "a scalar payload has no time in it: omit time (receive time is used)");
		return -1;
	}
	if (src->format == NORM_FMT_SENML) {
		yerr(c, n, "a SenML pack carries its own time (bt + t): omit time");
		return -1;
	}
	if (ychoice(c, a, "time format", time_as_names, &as) < 0)
		return -1;
	src->time_as = (enum norm_time_as)(NORM_TIME_UNIX_S + as);
	if ((zone = ynode_get(n, "zone")) != NULL)
		load_zone(c, zone, src);
	return load_path_list(c, p, "time path", &src->time_paths, &src->n_time_paths);
}

/* Reads one map target into e according to the field's type. */
static int load_map_target(struct yctx *c, const struct ynode *v, const struct norm_field *f,
			   struct norm_map_entry *e)
{
	if (ystring(c, v, "map value", &e->text) < 0)
		return -1;
	switch (f->type) {
	case NORM_BOOLEAN:
		return ybool(c, v, "map value for a boolean field", &e->boolean);
	case NORM_NUMBER:
	case NORM_INTEGER:
		return ynumber(c, v, "map value for a numeric field", &e->number);
	case NORM_ENUM:
		for (size_t i = 0; i < f->n_values; i++) {
			if (strcmp(f->values[i], v->text) == 0) {
				e->enum_index = i;
				return 0;
			}
		}
		yerr(c, v, "map value \"%s\" is not one of the values of %s", v->text, f->name);
		return -1;
	case NORM_STRING:
		return 0;
	case NORM_GEO:
		break;
	}
	yerr(c, v, "a geo field cannot use map");
	return -1;
}

static int load_map(struct yctx *c, const struct ynode *n, const struct norm_field *f,
		    struct norm_mapping *m)
{
	if (n->kind != YNODE_MAP || n->n == 0) {
		yerr(c, n, "map must be a non-empty mapping of payload value to %s value", f->name);
		return -1;
	}
	m->map = calloc(n->n, sizeof(*m->map));
	if (m->map == NULL) {
		oom(c);
		return -1;
	}
	m->n_map = n->n;
	for (size_t i = 0; i < n->n; i++) {
		m->map[i].key = strdup(ynode_key(n, i)->text);
		if (m->map[i].key == NULL) {
			oom(c);
			return -1;
		}
		load_map_target(c, ynode_value(n, i), f, &m->map[i]);
	}
	return 0;
}

/* Where the value comes from: paths for JSON formats, names for SenML and scalar. */
static int load_value_origin(struct yctx *c, const struct ynode *n, const struct norm_source *src,
			     struct norm_mapping *m)
{
	if (src->format == NORM_FMT_SENML || src->format == NORM_FMT_SCALAR)
		return ystring_list(c, n, src->format == NORM_FMT_SENML ? "SenML record name"
									  : "topic level value",
				    &m->names, &m->n_names);
	return load_path_list(c, n, "path", &m->paths, &m->n_paths);
}

static int load_unit(struct yctx *c, const struct ynode *n, const struct norm_field *f,
		     struct norm_mapping *m)
{
	if (yscalar(c, n, "unit") < 0)
		return -1;
	m->unit = unit_find(n->text);
	if (m->unit == NULL) {
		yerr(c, n, "unknown unit \"%s\"", n->text);
		return -1;
	}
	if (f->unit == NULL) {
		yerr(c, n, "field %s has no unit in its standard, so \"%s\" cannot convert to it",
		     f->name, n->text);
		return -1;
	}
	if (!unit_convertible(m->unit, f->unit)) {
		yerr(c, n, "unit %s (%s) cannot convert to %s (%s) of field %s", n->text,
		     unit_dimension(m->unit), unit_name(f->unit), unit_dimension(f->unit), f->name);
		return -1;
	}
	return 0;
}

static int load_geo(struct yctx *c, const struct ynode *n, const struct norm_source *src,
		    struct norm_mapping *m)
{
	const struct ynode *lat = ynode_get(n, "lat"), *lon = ynode_get(n, "lon");
	const struct ynode *gj = ynode_get(n, "geojson");

	if (n->kind != YNODE_MAP || ((lat || lon) == (gj != NULL)) || (lat == NULL) != (lon == NULL)) {
		yerr(c, n, "a geo field maps as {lat: PATH, lon: PATH} or {geojson: PATH}");
		return -1;
	}
	if (src->format == NORM_FMT_SCALAR) {
		yerr(c, n, "a scalar payload cannot carry a geo point");
		return -1;
	}
	if (src->format == NORM_FMT_SENML) {
		/* names[0] is the latitude record, names[1] the longitude record. */
		if (gj != NULL) {
			yerr(c, gj, "in SenML a geo field maps as {lat: NAME, lon: NAME}");
			return -1;
		}
		m->names = calloc(2, sizeof(*m->names));
		if (m->names == NULL) {
			oom(c);
			return -1;
		}
		m->n_names = 2;
		ystring(c, lat, "lat record name", &m->names[0]);
		return ystring(c, lon, "lon record name", &m->names[1]);
	}
	if (gj != NULL)
		return load_path(c, gj, "geojson path", &m->geojson);
	load_path(c, lat, "lat path", &m->lat);
	return load_path(c, lon, "lon path", &m->lon);
}

static int load_mapping_map(struct yctx *c, const struct ynode *n, const struct norm_source *src,
			    const struct norm_field *f, struct norm_mapping *m)
{
	const struct ynode *v;
	int errors = c->errors;

	if (ymap_check(c, n, "a field mapping", mapping_keys) < 0 && n->kind != YNODE_MAP)
		return -1;
	if (f->type == NORM_GEO)
		return load_geo(c, n, src, m);
	if (ynode_get(n, "lat") || ynode_get(n, "lon") || ynode_get(n, "geojson")) {
		yerr(c, n, "lat, lon and geojson apply only to geo fields; %s is %s", f->name,
		     norm_type_name(f->type));
		return -1;
	}
	const struct ynode *path = ynode_get(n, "path"), *topic = ynode_get(n, "topic");
	if ((path == NULL) == (topic == NULL)) {
		yerr(c, n, "a field mapping needs exactly one of \"path\" or \"topic\"");
		return -1;
	}
	if (path != NULL)
		load_value_origin(c, path, src, m);
	else
		load_topic_level(c, topic, src->topic, "field topic level", &m->topic_level);
	int numeric = f->type == NORM_NUMBER || f->type == NORM_INTEGER;
	if ((v = ynode_get(n, "unit")) != NULL)
		load_unit(c, v, f, m);
	if ((v = ynode_get(n, "scale")) != NULL && ynumber(c, v, "scale", &m->scale) == 0 &&
	    (!numeric || m->scale == 0)) {
		yerr(c, v, numeric ? "scale must not be 0" : "scale applies only to numeric fields");
	}
	if ((v = ynode_get(n, "offset")) != NULL && ynumber(c, v, "offset", &m->offset) == 0 &&
	    !numeric)
		yerr(c, v, "offset applies only to numeric fields");
	if ((v = ynode_get(n, "map")) != NULL)
		load_map(c, v, f, m);
	return c->errors == errors ? 0 : -1;
}

static int load_mapping(struct yctx *c, const struct ynode *key, const struct ynode *n,
			const struct norm_source *src, struct norm_mapping *m)
{
	const struct norm_standard *st = src->standard;
	int idx = norm_standard_field(st, key->text);

	m->scale = 1;
	if (idx < 0) {
		yerr(c, key, "standard %s has no field \"%s\"", st->id, key->text);
		return -1;
	}
	m->field = (size_t)idx;
	if (n->kind == YNODE_MAP)
		return load_mapping_map(c, n, src, &st->fields[idx], m);
	if (st->fields[idx].type == NORM_GEO) {
		yerr(c, n, "a geo field maps as {lat: PATH, lon: PATH} or {geojson: PATH}");
		return -1;
	}
	return load_value_origin(c, n, src, m);
}

/* A source that cannot fill a required field would reject every message it gets. */
static void check_required_mapped(struct yctx *c, const struct ynode *fields,
				  const struct norm_source *src)
{
	const struct norm_standard *st = src->standard;
	if (src->format == NORM_FMT_SCALAR)
		return; /* one field per message by nature; see normalize.c */
	for (size_t i = 0; i < st->n_fields; i++) {
		size_t j = 0;
		while (j < src->n_mappings && src->mappings[j].field != i)
			j++;
		if (st->fields[i].required && j == src->n_mappings)
			yerr(c, fields, "required field %s of standard %s is not mapped",
			     st->fields[i].name, st->id);
	}
}

static int load_fields(struct yctx *c, const struct ynode *n, struct norm_source *src)
{
	if (n->kind != YNODE_MAP || n->n == 0) {
		yerr(c, n, "fields must be a non-empty mapping of standard field to payload path");
		return -1;
	}
	src->mappings = calloc(n->n, sizeof(*src->mappings));
	if (src->mappings == NULL) {
		oom(c);
		return -1;
	}
	src->n_mappings = n->n;
	for (size_t i = 0; i < n->n; i++)
		load_mapping(c, ynode_key(n, i), ynode_value(n, i), src, &src->mappings[i]);
	check_required_mapped(c, n, src);
	return 0;
}

static int load_topic(struct yctx *c, const struct ynode *n, struct norm_source *src)
{
	char err[160];
	if (ystring(c, n, "topic", &src->topic) < 0)
		return -1;
	if (topic_filter_check(src->topic, err, sizeof(err)) < 0) {
		yerr(c, n, "topic %s: %s", src->topic, err);
		free(src->topic);
		src->topic = NULL;
		return -1;
	}
	return 0;
}

/* Keys that only some formats use are errors in the others. */
static void check_format_keys(struct yctx *c, const struct ynode *root,
			      const struct norm_source *src)
{
	const struct ynode *v;
	if ((v = ynode_get(root, "batch")) != NULL && src->format != NORM_FMT_JSON_BATCH)
		yerr(c, v, "batch applies only to format json-batch");
	if ((v = ynode_get(root, "field")) != NULL && src->format != NORM_FMT_SCALAR)
		yerr(c, v, "field applies only to format scalar");
	if (src->format == NORM_FMT_SCALAR && ynode_get(root, "field") == NULL)
		yerr(c, root, "a scalar source needs field: {topic: N} (the level naming the field)");
}

static int load_field_level(struct yctx *c, const struct ynode *n, struct norm_source *src)
{
	static const char *const keys[] = {"topic", NULL};
	if (ymap_check(c, n, "field", keys) < 0)
		return -1;
	const struct ynode *t = yrequire(c, n, "topic", "field");
	return t ? load_topic_level(c, t, src->topic, "field topic level",
				    &src->field_topic_level)
		 : -1;
}

static void load_header(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
			struct norm_source *src)
{
	const struct ynode *v;
	int fmt;

	if ((v = yrequire(c, root, "source", "a source")) != NULL)
		yident(c, v, "source id", &src->id);
	if ((v = yrequire(c, root, "standard", "a source")) != NULL &&
	    yscalar(c, v, "standard") == 0 &&
	    (src->standard = refs_standard(refs, v->text)) == NULL)
		yerr(c, v, "unknown standard \"%s\"", v->text);
	if ((v = ynode_get(root, "title")) != NULL)
		ystring(c, v, "title", &src->title);
	if ((v = ynode_get(root, "vendor")) != NULL)
		ystring(c, v, "vendor", &src->vendor);
	if ((v = ynode_get(root, "description")) != NULL)
		ystring(c, v, "description", &src->description);
	if ((v = yrequire(c, root, "topic", "a source")) != NULL)
		load_topic(c, v, src);
	if ((v = yrequire(c, root, "format", "a source")) != NULL &&
	    ychoice(c, v, "format", format_names, &fmt) == 0)
		src->format = (enum norm_format)fmt;
}

int source_load(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
		struct norm_source *src)
{
	const struct ynode *v;
	int errors = c->errors;

	ymap_check(c, root, "a source", source_keys);
	if (root->kind != YNODE_MAP)
		return -1;
	load_header(c, root, refs, src);
	if (c->errors != errors)
		return -1; /* the rest depends on the standard, topic and format */
	check_format_keys(c, root, src);
	if ((v = ynode_get(root, "batch")) != NULL && src->format == NORM_FMT_JSON_BATCH)
		load_path(c, v, "batch path", &src->batch);
	if ((v = ynode_get(root, "field")) != NULL && src->format == NORM_FMT_SCALAR)
		load_field_level(c, v, src);
	if ((v = yrequire(c, root, "device", "a source")) != NULL)
		load_device(c, v, src);
	src->time_as = src->format == NORM_FMT_SENML ? NORM_TIME_SENML : NORM_TIME_RECEIVED;
	src->time_zone = TIME_OFFSET_NONE;
	if ((v = ynode_get(root, "time")) != NULL)
		load_time(c, v, src);
	if ((v = yrequire(c, root, "fields", "a source")) != NULL)
		load_fields(c, v, src);
	return c->errors == errors ? 0 : -1;
}

static void mapping_clear(struct norm_mapping *m)
{
	for (size_t i = 0; i < m->n_paths; i++)
		path_clear(&m->paths[i]);
	free(m->paths);
	strlist_free(m->names, m->n_names);
	for (size_t i = 0; i < m->n_map; i++) {
		free(m->map[i].key);
		free(m->map[i].text);
	}
	free(m->map);
	path_clear(&m->lat);
	path_clear(&m->lon);
	path_clear(&m->geojson);
}

void source_clear(struct norm_source *src)
{
	for (size_t i = 0; i < src->n_mappings; i++)
		mapping_clear(&src->mappings[i]);
	free(src->mappings);
	for (size_t i = 0; i < src->n_time_paths; i++)
		path_clear(&src->time_paths[i]);
	free(src->time_paths);
	path_clear(&src->batch);
	path_clear(&src->device_path);
	free(src->id);
	free(src->title);
	free(src->vendor);
	free(src->description);
	free(src->topic);
	free(src->file);
	memset(src, 0, sizeof(*src));
}

const char *norm_format_name(enum norm_format f)
{
	return f <= NORM_FMT_SCALAR ? format_names[f] : "?";
}
