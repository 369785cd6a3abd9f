/*
 * Daemon configuration: one table of options (name, type, bounds, default, reloadable,
 * help) drives the config file parser, the command-line flags, --help, a sample config
 * and the reload check (style.md §8, §12, §13).
 *
 * File format: one "key = value" per line; '#' starts a comment outside quotes; a value
 * may be "double-quoted" with \" and \\ escapes. Problems are collected, each
 * "FILE:LINE:COL: message" (COL is a 1-based byte column), into a struct norm_diags
 * (normalizer/diag.h, as schema_dir_load does) so that --check can print config, schema
 * and rule errors the same way. The caller clears it with diags_clear.
 */
#ifndef CITYLINK_CONFIG_H
#define CITYLINK_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "normalizer/diag.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,      /* decimal, optional sign */
	CONFIG_DURATION, /* "500ms" "2s" "10m" "1h" "1d" "1w", "1.5h", "0"; stored as ms */
	CONFIG_BYTES,    /* "512", "64k", "256MiB", "1G": k/K/M/G/T and KiB..TiB are powers
			    of 1024; an optional "B" or one space before the unit */
	CONFIG_BOOL,     /* true or false only (not yes/no/on/off) */
	CONFIG_ENUM,     /* one of choices, exactly; stored as its index */
	CONFIG_SECRET_FILE, /* a path, relative to the working directory; the file must exist,
			       be a regular file and have no group/other permission bits */
};

struct config_def {
	const char *name;    /* "spool_max": the file key; the flag is "--spool-max" */
	enum config_type type;
	const char *def;     /* default as text, parsed like a file value; NULL = unset */
	long long min, max;  /* INT, DURATION (ms), BYTES bounds, inclusive; 0,0 = unbounded */
	const char *const *choices; /* ENUM: NULL-terminated */
	int reloadable;      /* may change on SIGHUP */
	const char *help;    /* one line, for --help and the sample config */
};

/* What the command line asked for besides options. Pointers borrow from argv. */
struct config_flags {
	const char *config_path; /* --config FILE, or NULL */
	int check;               /* --check */
	int help;                /* --help: the caller prints config_usage and exits */
	int version;             /* --version */
};

struct config;

/*
 * Values for one table, with the defaults applied. defs is borrowed and must outlive the
 * config (a static table). Returns NULL when out of memory. A malformed table (bad name,
 * duplicate, default that does not parse, ENUM without choices) is a programming error:
 * it aborts with a message on stderr. Caller frees with config_free.
 */
struct config *config_create(const struct config_def *defs, size_t n);

/* NULL is a no-op. */
void config_free(struct config *c);

/*
 * Parses main's argv (argv[0], the program name, is skipped). --config FILE (or
 * --config=FILE) is read first wherever it appears; then flags override in their order.
 * Flags: --name VALUE, --name=VALUE; a BOOL flag alone means true, --no-name false. A
 * value that starts with "--" must be given as --name=VALUE. SECRET_FILE defaults that
 * were not overridden are checked too. *flags is always filled, even on error (so --help
 * works with a broken config).
 * Returns 0, or -1 with every problem added to d. After -1 the values are partly updated:
 * free the config (on reload, keep the old one).
 */
int config_parse_args(struct config *c, int argc, char **argv, struct config_flags *flags,
		      struct norm_diags *d);

/* The same for a file alone: 0, or -1 with every problem (including "PATH: reason" when
 * it cannot be read) added to d. Files over 1 MiB are refused. */
int config_load_file(struct config *c, const char *path, struct norm_diags *d);

/* The same for text already in memory (any bytes); name stands for the file in messages
 * and origins. For tests and fuzzing. */
int config_load_buffer(struct config *c, const char *name, const char *data, size_t len,
		       struct norm_diags *d);

/*
 * Getters. A name missing from the table or of another type is a programming error:
 * it aborts with a message on stderr.
 */
/* STRING, SECRET_FILE: NULL if unset. Valid until the config is freed or reloaded into. */
const char *config_string(const struct config *c, const char *name);
/* The "client_id" key into buf, or ROLE-HOSTNAME when it is unset. Returns buf. */
const char *config_client_id(const struct config *c, const char *role, char *buf, size_t len);
/* INT, DURATION (ms), BYTES: 0 if unset (see config_has). */
long long config_int(const struct config *c, const char *name);
/* BOOL: 0 or 1 (0 if unset). */
int config_bool(const struct config *c, const char *name);
/* ENUM: the index into choices, -1 if unset. */
int config_enum(const struct config *c, const char *name);
/* Any type: a value is present (from the default, the file or a flag). */
int config_has(const struct config *c, const char *name);
/* Any type: given in the file or a flag, not just defaulted. */
int config_is_set(const struct config *c, const char *name);
/* Any type: "default", "FILE:LINE" or "command line", for log lines. Valid as long as
 * the value is not changed and the config lives. */
const char *config_origin(const struct config *c, const char *name);

/* Help generated from the table: "--flag VALUE  help (default X)", one option a line,
 * after --config, --check, --help and --version. */
void config_usage(FILE *out, const char *prog, const struct config_def *defs, size_t n);

/* A sample config with every key commented out ("# help\n#name = default\n\n"); a key
 * with no default is written "#name =". Returns 0, or -1 if writing failed. */
int config_write_sample(FILE *out, const struct config_def *defs, size_t n);

/*
 * Reload: build neu aside from the same argv (config_parse_args), then call this before
 * swapping. Both must come from the same table. Returns 0 when every non-reloadable key
 * is unchanged, else -1 with one line per changed key, "WHERE: KEY cannot change on
 * reload (restart the service)", WHERE being where neu got the value.
 */
int config_reload_check(const struct config *old, const struct config *neu,
			struct norm_diags *d);

#endif
