/*
 * citylink-ingest's options: the table behind its config file, flags, --help and sample
 * config (common/config.h), and the typed view the rest of the daemon reads.
 */
#ifndef CITYLINK_INGEST_OPTIONS_H
#define CITYLINK_INGEST_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/spool.h"

extern const struct config_def ingest_option_defs[];
extern const size_t ingest_option_count;

struct ingest_options {
	const char *broker, *db, *schemas, *client_id, *group;
	const char *catch_all; /* NULL: listen to the sources' filters only */
	const char *username, *password_file, *ca_file, *cert_file, *key_file;
	const char *spool_dir;
	uint64_t spool_max;
	enum spool_fsync fsync;
	int fsync_interval_ms;
	int republish;
	size_t batch_max;
	int batch_linger_ms;
	int status_interval_ms;
	uint32_t session_expiry_s;
	size_t max_payload;
	int debug;
};

/* Fills o from c; the strings borrow from c, except client_id, which is written into
 * client_id_buf (the configured one, or "ingest-<hostname>"). */
void ingest_options_read(const struct config *c, struct ingest_options *o, char *client_id_buf,
			 size_t len);

#endif
