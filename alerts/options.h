/*
 * citylink-alerts' options: the table behind its config file, flags, --help and sample
 * config (common/config.h), and the typed view the rest of the daemon reads.
 */
#ifndef CITYLINK_ALERTS_OPTIONS_H
#define CITYLINK_ALERTS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

extern const struct config_def alerts_option_defs[];
extern const size_t alerts_option_count;

struct alerts_options {
	const char *broker, *db, *schemas, *client_id, *ruleset;
	const char *username, *password_file, *ca_file, *cert_file, *key_file;
	int status_interval_ms;
	int lock_retry_ms;
	uint32_t session_expiry_s;
	int debug;
};

/* Fills o from c; the strings borrow from c, except client_id, which is written into
 * client_id_buf (the configured one, or "alerts-<hostname>"). */
void alerts_options_read(const struct config *c, struct alerts_options *o, char *client_id_buf,
			 size_t len);

#endif
