/*
 * Loading a schema set — standards, sources, rules, groups — from YAML bytes the caller
 * read (the library does no I/O), all-or-nothing: either every file is valid and
 * consistent and a whole set comes back, or nothing does and every problem is listed.
 * A loaded set is immutable, so any number of threads may normalize with it at once.
 */
#ifndef CITYLINK_SCHEMA_H
#define CITYLINK_SCHEMA_H

#include <stddef.h>

#include "normalizer/diag.h"
#include "normalizer/model.h"

enum norm_file_kind { NORM_FILE_STANDARD, NORM_FILE_SOURCE, NORM_FILE_RULES, NORM_FILE_GROUPS };

struct norm_file {
	enum norm_file_kind kind;
	const char *path;  /* as shown in diagnostics */
	const char *data;  /* the file's bytes (borrowed during the load) */
	size_t len;
};

struct norm_schema;

/*
 * Loads files into a set. Returns 0 and *out (caller frees with norm_schema_free), or -1
 * with *out NULL and every problem in d (the caller owns d's lines: diags_clear).
 * Returns -2 if memory ran out.
 */
int norm_schema_load(const struct norm_file *files, size_t n, struct norm_schema **out,
		     struct norm_diags *d);

void norm_schema_free(struct norm_schema *s);

/* The set's parts, in a stable order (standards and sources sorted by id, rules as
 * written). Pointers are valid until norm_schema_free. */
const struct norm_standard *norm_schema_standards(const struct norm_schema *s, size_t *n);
const struct norm_source *norm_schema_sources(const struct norm_schema *s, size_t *n);
const struct norm_rule *norm_schema_rules(const struct norm_schema *s, size_t *n);
char *const *norm_schema_groups(const struct norm_schema *s, size_t *n);

const struct norm_standard *norm_schema_standard(const struct norm_schema *s, const char *id);
const struct norm_source *norm_schema_source(const struct norm_schema *s, const char *id);
/* Index of field name in st, or -1. */
int norm_standard_field(const struct norm_standard *st, const char *name);

/* The source whose filter matches topic[0..len), or NULL. */
const struct norm_source *norm_schema_match(const struct norm_schema *s, const char *topic,
					    size_t len);

#endif
