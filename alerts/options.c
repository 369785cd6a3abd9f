/* citylink-alerts' option table (see options.h). */
#include "alerts/options.h"

#include <stdio.h>

#define DAY_MS (86400LL * 1000)

const struct config_def alerts_option_defs[] = {
	{"broker", CONFIG_STRING, "mqtt://127.0.0.1:1883", 0, 0, NULL, 0,
	 "MQTT broker URI (mqtts:// for TLS)"},
	{"db", CONFIG_STRING, "dbname=citylink", 0, 0, NULL, 0,
	 "PostgreSQL connection string (key=value or postgresql:// URI)"},
	{"schemas", CONFIG_STRING, "/etc/citylink/schemas", 0, 0, NULL, 1,
	 "schema directory (standards/, rules/, groups.yaml); re-read on SIGHUP"},
	{"client_id", CONFIG_STRING, NULL, 0, 0, NULL, 0,
	 "names this instance in its status topic (default alerts-HOSTNAME)"},
	{"ruleset", CONFIG_STRING, "citylink-alerts", 0, 0, NULL, 0,
	 "names the rule set: its PostgreSQL lock (one active instance, the others stand by) "
	 "and the persistent MQTT session the active one uses"},
	{"username", CONFIG_STRING, NULL, 0, 0, NULL, 0, "MQTT username"},
	{"password_file", CONFIG_SECRET_FILE, NULL, 0, 0, NULL, 0,
	 "file holding the MQTT password (mode 0600)"},
	{"ca_file", CONFIG_STRING, NULL, 0, 0, NULL, 0, "TLS: CA certificates to trust"},
	{"cert_file", CONFIG_STRING, NULL, 0, 0, NULL, 0, "TLS: client certificate"},
	{"key_file", CONFIG_SECRET_FILE, NULL, 0, 0, NULL, 0, "TLS: client private key (mode 0600)"},
	{"status_interval", CONFIG_DURATION, "5s", 1000, 3600 * 1000, NULL, 1,
	 "how often the retained status and systemd STATUS= are updated"},
	{"lock_retry", CONFIG_DURATION, "1s", 100, 60 * 1000, NULL, 1,
	 "a standby instance tries to become active this often"},
	{"session_expiry", CONFIG_DURATION, "7d", 60 * 1000, 365 * DAY_MS, NULL, 0,
	 "how long the broker keeps queueing std/ records for the rule set while no instance "
	 "is active"},
	{"debug", CONFIG_BOOL, "false", 0, 0, NULL, 1, "log debug lines"},
};
const size_t alerts_option_count = sizeof(alerts_option_defs) / sizeof(alerts_option_defs[0]);

void alerts_options_read(const struct config *c, struct alerts_options *o, char *client_id_buf,
			 size_t len)
{
	o->broker = config_string(c, "broker");
	o->db = config_string(c, "db");
	o->schemas = config_string(c, "schemas");
	o->client_id = config_client_id(c, "alerts", client_id_buf, len);
	o->ruleset = config_string(c, "ruleset");
	o->username = config_string(c, "username");
	o->password_file = config_string(c, "password_file");
	o->ca_file = config_string(c, "ca_file");
	o->cert_file = config_string(c, "cert_file");
	o->key_file = config_string(c, "key_file");
	o->status_interval_ms = (int)config_int(c, "status_interval");
	o->lock_retry_ms = (int)config_int(c, "lock_retry");
	o->session_expiry_s = (uint32_t)(config_int(c, "session_expiry") / 1000);
	o->debug = config_bool(c, "debug");
}
