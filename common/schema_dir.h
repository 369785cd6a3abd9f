/*
 * Reads a schema directory (standards/, sources/, rules/ and groups.yaml) from disk and
 * loads it with the normalizer. The I/O half of schema loading, shared by the daemons
 * and the citylink tool.
 */
#ifndef CITYLINK_SCHEMA_DIR_H
#define CITYLINK_SCHEMA_DIR_H

#include "normalizer/diag.h"
#include "normalizer/schema.h"

/*
 * Loads dir. Returns 0 and *out (caller frees with norm_schema_free), or -1 with every
 * problem in d (unreadable files included), or -2 when memory ran out.
 */
int schema_dir_load(const char *dir, struct norm_schema **out, struct norm_diags *d);

#endif
