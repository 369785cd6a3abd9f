/*
 * norm_normalize: find the message's source by topic, parse the payload strictly, and hand
 * it to the format's handler. The json and json-batch handlers live here too; SenML has
 * its own file.
 */
#include <stdio.h>
#include <string.h>

#include "normalizer/json_path.h"
#include "normalizer/json_strict.h"
#include "normalizer/norm_internal.h"

static const struct norm_limits default_limits = {
	.max_payload = 256 * 1024, .max_depth = 32, .max_records = 1000};

struct norm_limits norm_limits_default(void)
{
	return default_limits;
}

/* Checks the topic (MQTT §4.7: no NUL, no wildcards in a published name; UTF-8), copies it
 * into the arena, so values taken from it outlive the caller's buffer, and splits it into
 * levels: one pass over the bytes. */
static int split_topic(struct norm_result *r, const char *topic, size_t len)
{
	if (len == 0)
		return reject(r, "the topic is empty");
	if (utf8_invalid_at(topic, len) >= 0)
		return reject(r, "the topic is not valid UTF-8");
	char *copy = arena_strndup(r, topic, len);
	if (copy == NULL)
		return NORM_ENOMEM;
	r->levels[0] = copy;
	r->n_levels = 1;
	for (size_t i = 0; i < len; i++) {
		char c = copy[i];
		if (c == '\0' || c == '+' || c == '#')
			return reject(r, "the topic holds NUL, '+' or '#', which a published topic may not");
		if (c != '/')
			continue;
		if (r->n_levels == MAX_TOPIC_LEVELS)
			return reject(r, "topic has more than %d levels", MAX_TOPIC_LEVELS);
		r->level_len[r->n_levels - 1] = (size_t)(copy + i - r->levels[r->n_levels - 1]);
		r->levels[r->n_levels++] = copy + i + 1;
	}
	r->level_len[r->n_levels - 1] = (size_t)(copy + len - r->levels[r->n_levels - 1]);
	return NORM_OK;
}

/* A topic level as text (a device id, a field selector); callers that want a typed value
 * pass it through raw_from_text. */
static int topic_level(struct norm_result *r, int level, const char *what, struct raw *out)
{
	if (level > r->n_levels)
		return reject(r, "%s: the topic has no level %d", what, level);
	memset(out, 0, sizeof(*out));
	out->kind = RAW_STRING;
	out->text = r->levels[level - 1];
	out->len = r->level_len[level - 1];
	return NORM_OK;
}

static const cJSON *path_get(const struct norm_path *p, const cJSON *root, const cJSON *item)
{
	return json_path_get(p->path, p->from_root ? root : item);
}

/* The first present, non-null alternative, or NULL. */
static const cJSON *first_present(const struct norm_path *paths, size_t n, const cJSON *root,
				  const cJSON *item)
{
	for (size_t i = 0; i < n; i++) {
		const cJSON *j = path_get(&paths[i], root, item);
		if (j != NULL && !cJSON_IsNull(j))
			return j;
	}
	return NULL;
}

static int json_device(struct norm_result *r, const struct norm_source *src, const cJSON *root,
		       const cJSON *item, struct norm_record *rec)
{
	struct raw raw;
	if (src->device_topic_level > 0) {
		if (topic_level(r, src->device_topic_level, "device", &raw) != NORM_OK)
			return NORM_REJECT;
		return record_set_device(r, rec, raw.text, raw.len);
	}
	const cJSON *j = path_get(&src->device_path, root, item);
	if (j == NULL || cJSON_IsNull(j))
		return reject(r, "device: not found at %s", json_path_text(src->device_path.path));
	if (!cJSON_IsString(j) && !cJSON_IsNumber(j))
		return reject(r, "device: expected text or a number at %s",
			      json_path_text(src->device_path.path));
	if (raw_from_json(r, j, "device", &raw) != NORM_OK)
		return NORM_REJECT;
	raw_need_text(&raw);
	return record_set_device(r, rec, raw.text, raw.len);
}

static int json_time(struct norm_result *r, const struct norm_source *src, const cJSON *root,
		     const cJSON *item, struct norm_record *rec)
{
	struct raw raw;
	if (src->time_as == NORM_TIME_RECEIVED)
		return NORM_OK;
	const cJSON *j = first_present(src->time_paths, src->n_time_paths, root, item);
	if (j == NULL)
		return reject(r, "time: not found at %s", json_path_text(src->time_paths[0].path));
	if (raw_from_json(r, j, "time", &raw) != NORM_OK)
		return NORM_REJECT;
	return time_from_raw(r, src, &raw, &rec->time_ms);
}

static int geo_number(struct norm_result *r, const char *field, const char *what, const cJSON *j,
		      double lo, double hi, double *out)
{
	struct raw raw;
	if (raw_from_json(r, j, field, &raw) != NORM_OK)
		return NORM_REJECT;
	if (raw.kind == RAW_NUMBER) {
		*out = raw.number;
	} else if (raw.kind != RAW_STRING || text_to_number_n(raw.text, raw.len, out) < 0) {
		raw_need_text(&raw);
		return reject(r, "%s: %s %.*s is not a number", field, what,
			      (int)(raw.len > 60 ? 60 : raw.len), raw.text);
	}
	if (!(*out >= lo && *out <= hi))
		return reject(r, "%s: %s %.15g is outside %g..%g", field, what, *out, lo, hi);
	return NORM_OK;
}

static int json_geo(struct norm_result *r, const struct norm_field *f, const struct norm_mapping *m,
		    const cJSON *root, const cJSON *item, struct norm_value *v)
{
	const cJSON *lat, *lon;
	if (m->geojson.path != NULL) {
		const cJSON *g = path_get(&m->geojson, root, item);
		if (g == NULL || cJSON_IsNull(g))
			return NORM_OK;
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(g, "type");
		const cJSON *coords = cJSON_GetObjectItemCaseSensitive(g, "coordinates");
		if (!cJSON_IsString(type) || strcmp(type->valuestring, "Point") != 0 ||
		    !cJSON_IsArray(coords) || cJSON_GetArraySize(coords) < 2)
			return reject(r, "%s: expected a GeoJSON Point {\"type\":\"Point\","
				      "\"coordinates\":[lon,lat]}", f->name);
		/* GeoJSON puts longitude first. */
		lon = cJSON_GetArrayItem(coords, 0);
		lat = cJSON_GetArrayItem(coords, 1);
	} else {
		lat = path_get(&m->lat, root, item);
		lon = path_get(&m->lon, root, item);
		if ((lat == NULL || cJSON_IsNull(lat)) && (lon == NULL || cJSON_IsNull(lon)))
			return NORM_OK;
		if (lat == NULL || lon == NULL || cJSON_IsNull(lat) || cJSON_IsNull(lon))
			return reject(r, "%s: has %s but no %s", f->name, lat ? "lat" : "lon",
				      lat ? "lon" : "lat");
	}
	if (geo_number(r, f->name, "latitude", lat, -90, 90, &v->lat) != NORM_OK ||
	    geo_number(r, f->name, "longitude", lon, -180, 180, &v->lon) != NORM_OK)
		return NORM_REJECT;
	v->present = 1;
	return NORM_OK;
}

static int json_field(struct norm_result *r, const struct norm_source *src,
		      const struct norm_mapping *m, const cJSON *root, const cJSON *item,
		      struct norm_record *rec)
{
	const struct norm_field *f = &src->standard->fields[m->field];
	struct norm_value *v = (struct norm_value *)&rec->values[m->field];
	struct raw raw;

	if (f->type == NORM_GEO)
		return json_geo(r, f, m, root, item, v);
	if (m->topic_level > 0) {
		if (topic_level(r, m->topic_level, f->name, &raw) != NORM_OK)
			return NORM_REJECT;
		raw_from_text(raw.text, raw.len, &raw);
	} else {
		const cJSON *j = first_present(m->paths, m->n_paths, root, item);
		if (j == NULL)
			return NORM_OK;
		if (raw_from_json(r, j, f->name, &raw) != NORM_OK)
			return NORM_REJECT;
	}
	return value_set(r, f, m, NULL, &raw, v);
}

static int json_record(struct norm_result *r, const struct norm_source *src, const cJSON *root,
		       const cJSON *item)
{
	struct norm_record *rec = record_new(r);
	int rc;

	if (!cJSON_IsObject(item))
		return reject(r, "expected a JSON object, got %s",
			      cJSON_IsArray(item) ? "an array" : "a single value");
	if ((rc = json_device(r, src, root, item, rec)) != NORM_OK ||
	    (rc = json_time(r, src, root, item, rec)) != NORM_OK)
		return rc;
	for (size_t i = 0; i < src->n_mappings; i++)
		if ((rc = json_field(r, src, &src->mappings[i], root, item, rec)) != NORM_OK)
			return rc;
	return record_finish(r, rec);
}

static int json_batch(struct norm_result *r, const struct norm_source *src, const cJSON *root)
{
	const cJSON *list = src->batch.path ? json_path_get(src->batch.path, root) : root;
	int n, rc;

	if (list == NULL)
		return reject(r, "batch: not found at %s", json_path_text(src->batch.path));
	if (!cJSON_IsArray(list))
		return reject(r, "batch: expected a JSON array of records");
	n = cJSON_GetArraySize(list);
	if ((size_t)n > r->limits->max_records)
		return reject(r, "batch: %d records, more than the limit of %zu", n,
			      r->limits->max_records);
	/* Nothing to store is still worth a reject row: a device that sends empty batches
	 * is broken, and nobody would see it otherwise. */
	if (n == 0)
		return reject(r, "batch: the array is empty (no records)");
	if ((rc = records_reserve(r, (size_t)n)) != NORM_OK)
		return rc;
	int i = 0;
	for (const cJSON *item = list->child; item != NULL; item = item->next, i++) {
		r->record_index = i;
		if ((rc = json_record(r, src, root, item)) != NORM_OK)
			return rc;
	}
	r->record_index = -1;
	return NORM_OK;
}

int normalize_json(struct norm_result *r, const struct norm_source *src, const cJSON *root)
{
	int rc;
	if (src->format == NORM_FMT_JSON_BATCH)
		return json_batch(r, src, root);
	if (!cJSON_IsObject(root))
		return reject(r, "payload is not a JSON object (it is %s)",
			      cJSON_IsArray(root) ? "an array" : "a single value");
	if ((rc = records_reserve(r, 1)) != NORM_OK)
		return rc;
	return json_record(r, src, root, root);
}

int normalize_scalar(struct norm_result *r, const struct norm_source *src, const char *payload,
		     size_t len)
{
	struct raw field = {0}, raw;
	int rc;

	if (topic_level(r, src->field_topic_level, "field", &field) != NORM_OK)
		return NORM_REJECT;
	const struct norm_mapping *m = NULL;
	for (size_t i = 0; i < src->n_mappings && m == NULL; i++)
		for (size_t j = 0; j < src->mappings[i].n_names && m == NULL; j++)
			if (strlen(src->mappings[i].names[j]) == field.len &&
			    memcmp(src->mappings[i].names[j], field.text, field.len) == 0)
				m = &src->mappings[i];
	if (m == NULL)
		return reject(r, "topic level %d \"%.*s\" is not a field this source maps",
			      src->field_topic_level, (int)(field.len > 64 ? 64 : field.len),
			      field.text);
	/* Trim what firmware adds around a bare value; a quoted string loses its quotes. */
	while (len > 0 && (payload[0] == ' ' || payload[0] == '\t' || payload[0] == '\r' || payload[0] == '\n'))
		payload++, len--;
	while (len > 0 && (payload[len - 1] == ' ' || payload[len - 1] == '\t' ||
			   payload[len - 1] == '\r' || payload[len - 1] == '\n'))
		len--;
	if (len == 0)
		return reject(r, "payload is empty: a scalar source expects one value");
	if (len >= 2 && payload[0] == '"' && payload[len - 1] == '"' &&
	    memchr(payload + 1, '"', len - 2) == NULL && memchr(payload, '\\', len) == NULL) {
		payload++;
		len -= 2;
	}
	char *copy = arena_strndup(r, payload, len);
	if (copy == NULL || (rc = records_reserve(r, 1)) != NORM_OK)
		return NORM_ENOMEM;
	raw_from_text(copy, len, &raw);
	struct norm_record *rec = record_new(r);
	if ((rc = topic_level(r, src->device_topic_level, "device", &field)) != NORM_OK ||
	    (rc = record_set_device(r, rec, field.text, field.len)) != NORM_OK)
		return rc;
	const struct norm_field *f = &src->standard->fields[m->field];
	if ((rc = value_set(r, f, m, NULL, &raw, (struct norm_value *)&rec->values[m->field])) != NORM_OK)
		return rc;
	return record_finish(r, rec);
}

static int parse_json(struct norm_result *r, const char *payload, size_t len)
{
	char err[200];
	int rc = json_parse_strict(payload, len, r->limits->max_depth, &r->tree, err, sizeof(err));
	if (rc == -2)
		return NORM_ENOMEM;
	if (rc < 0)
		return reject(r, "payload is not JSON: %s", err);
	return NORM_OK;
}

int norm_normalize(const struct norm_schema *s, const struct norm_limits *limits,
		   const char *topic, size_t topic_len, const void *payload, size_t len,
		   int64_t received_ms, struct norm_result *r)
{
	const struct norm_source *src;
	int rc;

	result_reset(r);
	r->limits = limits ? limits : &default_limits;
	r->received_ms = received_ms;
	if ((rc = split_topic(r, topic, topic_len)) != NORM_OK)
		return rc;
	src = norm_schema_match(s, topic, topic_len);
	if (src == NULL)
		return reject(r, "no source matches topic %.*s", (int)(topic_len > 200 ? 200 : topic_len),
			      topic);
	r->source = src;
	if (len > r->limits->max_payload)
		return reject(r, "payload is %zu bytes, more than the limit of %zu", len,
			      r->limits->max_payload);
	if (src->format == NORM_FMT_SCALAR)
		rc = normalize_scalar(r, src, payload, len);
	else if ((rc = parse_json(r, payload, len)) == NORM_OK)
		rc = src->format == NORM_FMT_SENML ? normalize_senml(r, src, r->tree)
						   : normalize_json(r, src, r->tree);
	if (rc != NORM_OK)
		r->n_records = 0;
	return rc;
}
