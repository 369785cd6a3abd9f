/*
 * Example messages for the vendor guide, generated from a source's mappings and its
 * standard's ranges (never written by hand, so they cannot drift from the schema), and
 * checked by running them through the normalizer: a guide whose examples do not
 * normalize is a bug in the schema set or in the normalizer, and is refused.
 */
#ifndef CITYLINK_EXAMPLE_H
#define CITYLINK_EXAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "normalizer/normalize.h"

/* The instant every example is stamped with (and received at): 2026-11-21T09:10:00Z. */
#define EXAMPLE_TIME_MS INT64_C(1795252200000)
/* The device id the examples use. */
#define EXAMPLE_DEVICE "dev-0001"

struct example {
	char *topic;         /* where to publish it */
	char *payload;       /* pretty-printed JSON, or a scalar message's bare value */
	const struct norm_mapping *mapping; /* scalar: the mapping the message carries; else NULL */
	char *records;       /* after example_verify: the records, one JSON line each */
};

struct example_set {
	struct example *items;
	size_t n;
};

/* One field's value for example_build_from, in the standard's unit. */
struct example_value {
	int set;           /* 0: the example's middle value */
	double number;     /* number, integer: the value; boolean: 0 or 1; enum: the value's index */
	const char *text;  /* string fields (borrowed); NULL: the example's text */
};

/* What the messages carry instead of the guide's fixed example (the simulator's devices). */
struct example_input {
	const char *device;
	int64_t time_ms;   /* the first record's time */
	int64_t step_ms;   /* between the records of a batch; 0: the standard's interval */
	double lat, lon;
	int records;       /* json-batch: records per message (at least 1) */
	int compact;       /* JSON on one line rather than pretty-printed */
	/* records x the standard's n_fields, one row per record; NULL: every value the middle.
	 * A number outside the field's range goes into the payload as it is (a bad message). */
	const struct example_value *values;
};

/*
 * Builds the examples of src into *set (zero it first; free with example_set_free, also
 * on failure): one message for json, json-batch (two records) and senml, one per mapped
 * field for scalar. Returns 0, or -1 with the reason in err (a mapping the generator
 * cannot express, or out of memory).
 */
int example_build(const struct norm_source *src, struct example_set *set, char *err,
		  size_t errlen);

/* The same with the device, time, position and values of in (borrowed for the call). */
int example_build_from(const struct norm_source *src, const struct example_input *in,
		       struct example_set *set, char *err, size_t errlen);

/*
 * Normalizes each example of src's set with s, received at EXAMPLE_TIME_MS, and keeps
 * the records. Returns 0, or -1 with the reason in err when a message is refused, is
 * claimed by another source, or loses a field it carries.
 */
int example_verify(const struct norm_schema *s, const struct norm_source *src,
		   struct example_set *set, char *err, size_t errlen);

void example_set_free(struct example_set *set);

/* The SenML (RFC 8428 / RFC 8798) name of u when the normalizer reads it back as u,
 * else NULL. "%RH" rather than "%" when humidity is set. */
const char *example_senml_unit(const struct unit *u, int humidity);

#endif
