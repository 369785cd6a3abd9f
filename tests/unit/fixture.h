/* Schema sets built from inline YAML for the normalizer's unit tests. */
#ifndef CITYLINK_FIXTURE_H
#define CITYLINK_FIXTURE_H

#include <stddef.h>

#include "normalizer/diag.h"
#include "normalizer/schema.h"

/*
 * Loads the given files (any may be NULL) as standards/a.yaml, standards/b.yaml,
 * sources/a.yaml, sources/b.yaml, rules/a.yaml and groups.yaml. Returns the set, or NULL
 * with the problems in d (caller clears d).
 */
struct norm_schema *fixture_load(const char *std_a, const char *std_b, const char *src_a,
				 const char *src_b, const char *rules, const char *groups,
				 struct norm_diags *d);

/* The first diagnostic line, or "" (for assertions). */
const char *fixture_first(const struct norm_diags *d);

/* A standard used across tests: air-quality as in design.md. */
extern const char *const FIXTURE_AIR_QUALITY;
/* A source for it using every json mapping form, as in design.md. */
extern const char *const FIXTURE_ACME_SOURCE;

/* The repository root ($CITYLINK_REPO, else "."), for test data under tests/corpus. */
const char *fixture_repo(void);

/* A whole file, NUL-terminated after *len bytes; NULL if unreadable. Caller frees. */
char *fixture_read_file(const char *path, size_t *len);

#endif
