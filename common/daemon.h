/*
 * The start-up steps both daemons share: reading main's argv into a config of an option
 * table, and loading the schema directory, each printing every problem (file:line:col)
 * to stderr, where --check and systemd show them.
 */
#ifndef CITYLINK_DAEMON_H
#define CITYLINK_DAEMON_H

#include "common/config.h"
#include "normalizer/diag.h"
#include "normalizer/schema.h"

/* Prints each line of d (and how many were not kept) to stderr. */
void daemon_print_diags(const struct norm_diags *d);

/* Parses argv into a new config of defs (config_parse_args). NULL, with the problems
 * printed, if it is refused; *flags is filled either way. Caller frees with config_free. */
struct config *daemon_read_config(const struct config_def *defs, size_t n, int argc,
				  char **argv, struct config_flags *flags);

/* Loads dir; NULL, with the problems printed, if it is refused. Out of memory is fatal.
 * Caller frees with norm_schema_free. */
struct norm_schema *daemon_load_schemas(const char *dir);

#endif
