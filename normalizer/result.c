/* norm_result: the reusable output of one normalize call, and its small string arena. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/json_strict.h"
#include "normalizer/norm_internal.h"

#define ARENA_BLOCK 4096

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(16) char data[];
};

struct norm_result *norm_result_create(void)
{
	return calloc(1, sizeof(struct norm_result));
}

static void arena_free(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

/* Keeps the first block for the next message: most messages need no more. */
void result_reset(struct norm_result *r)
{
	cJSON_Delete(r->tree);
	r->tree = NULL;
	r->source = NULL;
	r->reason[0] = '\0';
	r->record_index = -1;
	r->n_records = 0;
	r->n_values = 0;
	r->n_levels = 0;
	if (r->arena != NULL) {
		arena_free(r->arena->next);
		r->arena->next = NULL;
		r->arena->used = 0;
	}
}

void norm_result_free(struct norm_result *r)
{
	if (r == NULL)
		return;
	result_reset(r);
	arena_free(r->arena);
	free(r->records);
	free(r->values);
	free(r);
}

void *arena_zalloc(struct norm_result *r, size_t size)
{
	struct arena_block *b = r->arena;
	/* Keep every allocation aligned for any type. */
	size = (size + 15) & ~(size_t)15;
	if (b == NULL || b->cap - b->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
		struct arena_block *nb = malloc(sizeof(*nb) + cap);
		if (nb == NULL)
			return NULL;
		nb->used = 0;
		nb->cap = cap;
		/* The new block goes second so the (reused) first block stays first. */
		if (b == NULL) {
			nb->next = NULL;
			r->arena = nb;
		} else {
			nb->next = b->next;
			b->next = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	memset(p, 0, size);
	b->used += size;
	return p;
}

char *arena_strndup(struct norm_result *r, const char *s, size_t len)
{
	char *p = arena_zalloc(r, len + 1);
	if (p != NULL)
		memcpy(p, s, len);
	return p;
}

int reject(struct norm_result *r, const char *fmt, ...)
{
	size_t off = 0;
	va_list ap;

	/* Formatted only here: a batch that passes never pays for naming its records. */
	if (r->record_index >= 0)
		off = (size_t)snprintf(r->reason, sizeof(r->reason), "record %d: ", r->record_index);
	va_start(ap, fmt);
	vsnprintf(r->reason + off, sizeof(r->reason) - off, fmt, ap);
	va_end(ap);
	return NORM_REJECT;
}

int records_reserve(struct norm_result *r, size_t records)
{
	size_t per = r->source->standard->n_fields;
	if (records > r->cap_records) {
		struct norm_record *rec = realloc(r->records, records * sizeof(*rec));
		if (rec == NULL)
			return NORM_ENOMEM;
		r->records = rec;
		r->cap_records = records;
	}
	if (records * per > r->cap_values) {
		struct norm_value *v = realloc(r->values, records * per * sizeof(*v));
		if (v == NULL)
			return NORM_ENOMEM;
		r->values = v;
		r->cap_values = records * per;
	}
	return NORM_OK;
}

struct norm_record *record_new(struct norm_result *r)
{
	size_t per = r->source->standard->n_fields;
	struct norm_record *rec = &r->records[r->n_records++];
	struct norm_value *v = &r->values[r->n_values];

	memset(v, 0, per * sizeof(*v));
	r->n_values += per;
	rec->source = r->source;
	rec->device = NULL;
	rec->time_ms = r->received_ms;
	rec->values = v;
	return rec;
}

int record_finish(struct norm_result *r, const struct norm_record *rec)
{
	const struct norm_standard *st = rec->source->standard;
	int any = 0;

	for (size_t i = 0; i < st->n_fields; i++) {
		any |= rec->values[i].present;
		/* A scalar message carries one field by nature: required is for whole records. */
		if (st->fields[i].required && !rec->values[i].present &&
		    rec->source->format != NORM_FMT_SCALAR)
			return reject(r, "%s: required field is missing", st->fields[i].name);
	}
	if (!any)
		return reject(r, "none of the fields this source maps is in the payload");
	return NORM_OK;
}

int device_check(struct norm_result *r, const char *s, size_t len)
{
	if (len == 0)
		return reject(r, "device: the device id is empty");
	if (len > DEVICE_MAX)
		return reject(r, "device: the device id is %zu bytes, more than %d", len, DEVICE_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		/* It becomes a topic level of std/<standard>/<device>: no separators, wildcards
		 * or control characters. */
		if (ch == '/' || ch == '+' || ch == '#' || ch < 0x20 || ch == 0x7f)
			return reject(r, "device: \"%.*s\" may not hold '/', '+', '#' or control "
				      "characters", (int)(len > 64 ? 64 : len), s);
	}
	if (utf8_invalid_at(s, len) >= 0)
		return reject(r, "device: the device id is not valid UTF-8");
	return NORM_OK;
}

int record_set_device(struct norm_result *r, struct norm_record *rec, const char *s, size_t len)
{
	if (device_check(r, s, len) != NORM_OK)
		return NORM_REJECT;
	rec->device = arena_strndup(r, s, len);
	return rec->device ? NORM_OK : NORM_ENOMEM;
}

size_t norm_result_count(const struct norm_result *r)
{
	return r->n_records;
}

const struct norm_record *norm_result_record(const struct norm_result *r, size_t i)
{
	return i < r->n_records ? &r->records[i] : NULL;
}

const char *norm_result_reason(const struct norm_result *r)
{
	return r->reason;
}

const struct norm_source *norm_result_source(const struct norm_result *r)
{
	return r->source;
}
