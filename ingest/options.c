/* citylink-ingest's option table (see options.h). */
#include "ingest/options.h"

#include <stdio.h>

static const char *const fsync_choices[] = {"always", "interval", "never", NULL};

#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)
#define DAY_MS (86400LL * 1000)

const struct config_def ingest_option_defs[] = {
	{"broker", CONFIG_STRING, "mqtt://127.0.0.1:1883", 0, 0, NULL, 0,
	 "MQTT broker URI (mqtts:// for TLS)"},
	{"db", CONFIG_STRING, "dbname=citylink", 0, 0, NULL, 0,
	 "PostgreSQL connection string (key=value or postgresql:// URI)"},
	{"schemas", CONFIG_STRING, "/etc/citylink/schemas", 0, 0, NULL, 1,
	 "schema directory (standards/, sources/, rules/, groups.yaml); re-read on SIGHUP"},
	{"client_id", CONFIG_STRING, NULL, 0, 0, NULL, 0,
	 "MQTT client id, also names the persistent session (default ingest-HOSTNAME)"},
	{"group", CONFIG_STRING, NULL, 0, 0, NULL, 0,
	 "share the subscription with other instances as $share/GROUP/... (horizontal scale-out)"},
	{"catch_all", CONFIG_STRING, "city/#", 0, 0, NULL, 1,
	 "also listen here, so a payload on a topic no source maps is kept in rejects; \"\" = off"},
	{"username", CONFIG_STRING, NULL, 0, 0, NULL, 0, "MQTT username"},
	{"password_file", CONFIG_SECRET_FILE, NULL, 0, 0, NULL, 0,
	 "file holding the MQTT password (mode 0600)"},
	{"ca_file", CONFIG_STRING, NULL, 0, 0, NULL, 0, "TLS: CA certificates to trust"},
	{"cert_file", CONFIG_STRING, NULL, 0, 0, NULL, 0, "TLS: client certificate"},
	{"key_file", CONFIG_SECRET_FILE, NULL, 0, 0, NULL, 0, "TLS: client private key (mode 0600)"},
	{"spool", CONFIG_STRING, "/var/lib/citylink/spool", 0, 0, NULL, 0,
	 "spool directory: every message is written here before it is acknowledged"},
	{"spool_max", CONFIG_BYTES, "1GiB", 16 * MiB, 1024 * GiB, NULL, 1,
	 "stop taking messages (the broker holds them) while the unstored spool is this big"},
	{"fsync", CONFIG_ENUM, "interval", 0, 0, fsync_choices, 0,
	 "spool fsync: always (no loss on power cut), interval (lose at most fsync_interval), never"},
	{"fsync_interval", CONFIG_DURATION, "5ms", 1, 1000, NULL, 0,
	 "with fsync=interval: the most a power cut can lose (a crash loses nothing)"},
	{"republish", CONFIG_BOOL, "true", 0, 0, NULL, 1,
	 "publish each stored record to std/<standard>/<device> (QoS 1)"},
	{"batch_max", CONFIG_INT, "5000", 1, 100000, NULL, 1,
	 "messages per database transaction at most"},
	{"batch_linger", CONFIG_DURATION, "0", 0, 1000, NULL, 1,
	 "wait this long for a batch to fill before committing (0: commit what has arrived)"},
	{"status_interval", CONFIG_DURATION, "5s", 1000, 3600 * 1000, NULL, 1,
	 "how often the retained status and systemd STATUS= are updated"},
	{"session_expiry", CONFIG_DURATION, "7d", 60 * 1000, 365 * DAY_MS, NULL, 0,
	 "how long the broker keeps queueing for this client while it is away"},
	{"max_payload", CONFIG_BYTES, "256KiB", 1 * KiB, 16 * MiB, NULL, 1,
	 "larger payloads are refused (stored in rejects)"},
	{"debug", CONFIG_BOOL, "false", 0, 0, NULL, 1, "log debug lines"},
};
const size_t ingest_option_count = sizeof(ingest_option_defs) / sizeof(ingest_option_defs[0]);

void ingest_options_read(const struct config *c, struct ingest_options *o, char *client_id_buf,
			 size_t len)
{
	o->broker = config_string(c, "broker");
	o->db = config_string(c, "db");
	o->schemas = config_string(c, "schemas");
	o->client_id = config_client_id(c, "ingest", client_id_buf, len);
	o->group = config_string(c, "group");
	o->catch_all = config_string(c, "catch_all");
	if (o->catch_all != NULL && o->catch_all[0] == '\0')
		o->catch_all = NULL;
	o->username = config_string(c, "username");
	o->password_file = config_string(c, "password_file");
	o->ca_file = config_string(c, "ca_file");
	o->cert_file = config_string(c, "cert_file");
	o->key_file = config_string(c, "key_file");
	o->spool_dir = config_string(c, "spool");
	o->spool_max = (uint64_t)config_int(c, "spool_max");
	o->fsync = (enum spool_fsync)config_enum(c, "fsync");
	o->fsync_interval_ms = (int)config_int(c, "fsync_interval");
	o->republish = config_bool(c, "republish");
	o->batch_max = (size_t)config_int(c, "batch_max");
	o->batch_linger_ms = (int)config_int(c, "batch_linger");
	o->status_interval_ms = (int)config_int(c, "status_interval");
	o->session_expiry_s = (uint32_t)(config_int(c, "session_expiry") / 1000);
	o->max_payload = (size_t)config_int(c, "max_payload");
	o->debug = config_bool(c, "debug");
}
