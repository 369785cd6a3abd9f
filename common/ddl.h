/*
 * PostgreSQL DDL for a schema set: one typed, time-partitioned table per standard
 * (std_<standard>), written so that running it again, or after a standard gained fields,
 * migrates forward (CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS).
 */
#ifndef CITYLINK_DDL_H
#define CITYLINK_DDL_H

#include "normalizer/normalize.h"

/* Appends the DDL to out. Returns 0, or NORM_ENOMEM. */
int ddl_generate(const struct norm_schema *s, struct norm_buf *out);

/* Appends the statements that keep each standard's monthly partitions ahead of the
 * calendar (run daily by the daemons). Returns 0, or NORM_ENOMEM. */
int ddl_maintain(const struct norm_schema *s, struct norm_buf *out);

/* The PostgreSQL column type of a field type ("double precision", ...). */
const char *ddl_column_type(enum norm_type t);

#endif
