/*
 * Internals shared by the normalizer's format handlers (normalize.c, convert.c, senml.c).
 * Not installed, not for consumers: they use normalize.h.
 */
#ifndef CITYLINK_NORM_INTERNAL_H
#define CITYLINK_NORM_INTERNAL_H

#include <cjson/cJSON.h>

#include "normalizer/normalize.h"

#define MAX_TOPIC_LEVELS 64
#define DEVICE_MAX 128

/* A payload value before it is typed: from JSON, a SenML record, a topic level or a bare
 * scalar payload. text is how it reads, for map lookups and messages; for a JSON number it
 * stays NULL until raw_need_text formats it, as most numbers never need it. */
enum raw_kind { RAW_NUMBER, RAW_STRING, RAW_BOOL };
struct raw {
	enum raw_kind kind;
	double number;
	int boolean;
	const char *text; /* RAW_STRING: the string; else points into buf */
	size_t len;
	char buf[40];
};

struct arena_block;

struct norm_result {
	const struct norm_source *source;
	cJSON *tree;                       /* kept so string values can point into it */
	char reason[512];
	int record_index;                  /* inside a batch or pack: reasons say "record N: "; else -1 */
	struct norm_record *records;
	size_t n_records, cap_records;
	struct norm_value *values;         /* all records' values, reserved before use */
	size_t n_values, cap_values;
	struct arena_block *arena;
	const char *levels[MAX_TOPIC_LEVELS]; /* the topic split at '/', into the arena copy */
	size_t level_len[MAX_TOPIC_LEVELS];
	int n_levels;
	int64_t received_ms;
	const struct norm_limits *limits;
};

/* Empties r for the next message, keeping its buffers. */
void result_reset(struct norm_result *r);

/* Formats a reason (naming the record inside a batch) into r and returns NORM_REJECT. */
int reject(struct norm_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Zeroed memory from the result's arena, valid until the result is reused. */
void *arena_zalloc(struct norm_result *r, size_t size);
/* Copies s into the result's arena (NUL-terminated); NULL on out of memory. */
char *arena_strndup(struct norm_result *r, const char *s, size_t len);

/* Makes room for records records of the source's standard, so pointers stay stable. */
int records_reserve(struct norm_result *r, size_t records);
/* The next record, with all values absent. Capacity must have been reserved. */
struct norm_record *record_new(struct norm_result *r);
/* Rejects a record that lacks a required field or has no value at all. */
int record_finish(struct norm_result *r, const struct norm_record *rec);
/* Checks a device id (it becomes a topic level: no '/', '+', '#', controls; UTF-8). */
int device_check(struct norm_result *r, const char *s, size_t len);
/* Checks and sets (copies) the device id. */
int record_set_device(struct norm_result *r, struct norm_record *rec, const char *s, size_t len);

void raw_from_text(const char *s, size_t len, struct raw *out);
/* text_to_number (yread.h) for text that is not NUL-terminated. */
int text_to_number_n(const char *s, size_t len, double *out);
/* Makes raw->text/len valid (formats a number on first use). */
void raw_need_text(struct raw *raw);
/* NORM_REJECT for arrays, objects and null (what names the value in the reason). */
int raw_from_json(struct norm_result *r, const cJSON *j, const char *what, struct raw *out);

/* Types, maps, scales, converts and range-checks raw into v for field f. unit is the
 * payload's unit (NULL: m's or else the standard's). */
int value_set(struct norm_result *r, const struct norm_field *f, const struct norm_mapping *m,
	      const struct unit *unit, struct raw *raw, struct norm_value *v);

/* Time from a raw payload value according to the source's time spec. */
int time_from_raw(struct norm_result *r, const struct norm_source *src, struct raw *raw,
		  int64_t *ms);

/* The formats; each fills r->records or rejects. */
int normalize_json(struct norm_result *r, const struct norm_source *src, const cJSON *root);
int normalize_senml(struct norm_result *r, const struct norm_source *src, const cJSON *root);
int normalize_scalar(struct norm_result *r, const struct norm_source *src, const char *payload,
		     size_t len);

/* Shortest text that reads back as the same double. */
void format_double(double v, char *buf, size_t len);

#endif
