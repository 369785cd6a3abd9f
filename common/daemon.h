/*
 * The start-up steps both daemons share: reading main's argv into a config of an option
 * table, and loading the schema directory, each printing every problem (file:line:col)
 * to stderr, where --check and systemd show them.
 */
#ifndef CITYLINK_DAEMON_H
#define CITYLINK_DAEMON_H

#include <signal.h>

#include "common/config.h"
#include "common/mqtt.h"
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

/* Creates the daemon's MQTT client: the broker, login and TLS come from the config keys
 * both daemons share (broker, username, password_file, ca_file, cert_file, key_file); the
 * rest of mo (client id, session, will, window) from the caller. An unreadable password
 * file or a broker URI the client refuses is fatal (logged). Caller frees with mqtt_free. */
struct mqtt *daemon_mqtt_create(const struct config *c, struct mqtt_options *mo,
				mqtt_message_fn on_message, void *ctx);

/* What the main loop calls; ctx is the daemon's own state. wait_ms may be NULL (a fixed
 * DAEMON_TICK_MS), else it says how long to sleep before the next tick (0..DAEMON_TICK_MS). */
#define DAEMON_TICK_MS 100
struct daemon_loop {
	long (*wait_ms)(void *ctx);
	void (*reload)(void *ctx);
	void (*tick)(void *ctx);
};

/* The signal loop both daemons run on their main thread (signals are blocked everywhere
 * and taken here, so no handler runs): SIGHUP reloads between RELOADING=1 and READY=1,
 * every wake-up ends with a tick, and SIGTERM or SIGINT returns (logged). */
void daemon_run(const sigset_t *signals, const struct daemon_loop *l, void *ctx);

#endif
