/*
 * The loaded schema set as read-only structs: standards, sources, rules and groups.
 * Built only by norm_schema_load (schema.h); everything here is owned by the norm_schema
 * and valid until norm_schema_free. Consumers (the normalizer, the DDL and guide generators,
 * the daemons) read these fields and never write them.
 */
#ifndef CITYLINK_MODEL_H
#define CITYLINK_MODEL_H

#include <stddef.h>
#include <stdint.h>

struct unit;
struct json_path;
struct expr;

enum norm_type { NORM_NUMBER, NORM_INTEGER, NORM_BOOLEAN, NORM_ENUM, NORM_STRING, NORM_GEO };

struct norm_field {
	char *name;
	enum norm_type type;
	const struct unit *unit; /* number/integer only; NULL when unitless */
	int has_range;
	double min, max;
	int required;
	long max_length;         /* string: characters, 0 = unbounded */
	char **values;           /* enum: allowed values */
	size_t n_values;
	char *description;
};

struct norm_standard {
	char *id;                /* "air-quality" */
	char *table;             /* "std_air_quality" */
	int version;
	char *title, *description;
	int64_t interval_ms;     /* expected reporting period */
	struct norm_field *fields;
	size_t n_fields;
	char *file;
};

enum norm_format { NORM_FMT_JSON, NORM_FMT_JSON_BATCH, NORM_FMT_SENML, NORM_FMT_SCALAR };
enum norm_time_as { NORM_TIME_RECEIVED, NORM_TIME_UNIX_S, NORM_TIME_UNIX_MS, NORM_TIME_ISO8601,
		    NORM_TIME_SENML };

/* A path into the payload; from_root: "$."-prefixed, resolved from the message root even
 * inside a batch record. */
struct norm_path {
	struct json_path *path;
	int from_root;
};

/* One value mapped from the payload (or the topic) to a standard field. */
struct norm_map_entry {
	char *key;              /* the payload value as text */
	double number;          /* target for number/integer fields */
	int boolean;            /* target for boolean fields */
	size_t enum_index;      /* target for enum fields */
	char *text;             /* target as written */
};

struct norm_mapping {
	size_t field;                     /* index into the standard's fields */
	struct norm_path *paths;          /* alternatives, first present wins */
	size_t n_paths;
	char **names;                     /* senml record names / scalar topic values */
	size_t n_names;
	int topic_level;                  /* 1-based; 0 = not from the topic */
	const struct unit *unit;          /* payload unit, NULL = the standard's */
	double scale, offset;             /* value = raw * scale + offset (scale 1, offset 0) */
	struct norm_map_entry *map;
	size_t n_map;
	struct norm_path lat, lon, geojson; /* geo fields */
};

struct norm_source {
	char *id;
	const struct norm_standard *standard;
	char *title, *vendor, *description;
	char *topic;                      /* the MQTT filter */
	enum norm_format format;
	struct norm_path batch;           /* json-batch: where the array is (NULL path = root) */
	int device_topic_level;           /* 1-based, or 0 when device_path is used */
	struct norm_path device_path;
	enum norm_time_as time_as;
	int time_zone;                    /* iso8601 without an offset: minutes east of UTC,
					     or TIME_OFFSET_NONE (timefmt.h): refused */
	struct norm_path *time_paths;
	size_t n_time_paths;
	int field_topic_level;            /* scalar: which topic level names the field */
	struct norm_mapping *mappings;
	size_t n_mappings;
	char *file;
};

enum norm_severity { NORM_SEV_EXTREME, NORM_SEV_SEVERE, NORM_SEV_MODERATE, NORM_SEV_MINOR };

struct norm_escalation {
	int64_t after_ms;
	char **notify;
	size_t n_notify;
};

/* A rule as written; the expressions are checked for syntax by the alerts daemon's parser. */
struct norm_rule {
	char *id;
	const struct norm_standard *standard;
	char *when, *clear;               /* as written */
	struct expr *when_expr, *clear_expr; /* parsed and type-checked (expr.h); clear NULL = not when */
	int64_t for_ms;
	int64_t silent_ms;                /* 0 = not a silence rule */
	int silent_intervals;             /* silent given as "N intervals" (silent_ms computed) */
	enum norm_severity severity;
	char **notify;
	size_t n_notify;
	struct norm_escalation *escalate;
	size_t n_escalate;
	int64_t remind_ms;
	int64_t deadline_ms, remind_before_ms;
	char **supervisors;
	size_t n_supervisors;
	int64_t reraise_ms;               /* minimum time between two raises per device */
	char **devices;                   /* device filter; empty = every device */
	size_t n_devices;
	char **headline_lang, **headline;  /* parallel: language ("" when a plain string), text */
	size_t n_headline;
	char *description, *instruction;
	char *file;
	int line;
};

const char *norm_type_name(enum norm_type t);
const char *norm_format_name(enum norm_format f);
const char *norm_severity_name(enum norm_severity s);

#endif
