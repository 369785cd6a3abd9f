/*
 * The SQL text store.c runs for one standard: staging table, COPY, insert, conflict
 * check and devices upsert. Generated once per schema (re)load, from the standard's
 * fields, so the column lists always match the tables ddl.c creates.
 */
#ifndef CITYLINK_STORE_SQL_H
#define CITYLINK_STORE_SQL_H

#include "normalizer/model.h"

struct store_sql {
	const struct norm_standard *st;
	int columns;      /* fields in a COPY row */
	char *create;     /* (re)creates the temporary staging table */
	char *copy;       /* COPY staging FROM STDIN (FORMAT binary) */
	char *insert;     /* staging -> std_<standard>, ON CONFLICT DO NOTHING */
	char *conflicts;  /* staging rows whose key is stored with other values */
	char *devices;    /* devices seen in staging -> devices */
};

/* Fills q for st. Caller frees with store_sql_free. */
void store_sql_build(struct store_sql *q, const struct norm_standard *st);
void store_sql_free(struct store_sql *q);

/* The statements for rejects and checkpoints, the same for every schema. */
extern const char store_sql_rejects_create[];
extern const char store_sql_rejects_copy[];
extern const char store_sql_rejects_insert[];
extern const char store_sql_checkpoint_put[];
extern const char store_sql_checkpoint_get[];

#endif
