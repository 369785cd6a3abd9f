/*
 * config-sample DAEMON: writes the commented config file shipped in deploy/config/ from the
 * daemon's option table (common/config.h config_write_sample), so the file can never
 * drift from the code: tests/cli/test_systemd_units.sh compares them, and
 * `make config-samples` regenerates them.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "alerts/options.h"
#include "ingest/options.h"

static const struct {
	const char *name;
	const struct config_def *defs;
	const size_t *n;
} daemons[] = {
	{"ingest", ingest_option_defs, &ingest_option_count},
	{"alerts", alerts_option_defs, &alerts_option_count},
};

int main(int argc, char **argv)
{
	for (size_t i = 0; argc == 2 && i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		if (strcmp(argv[1], daemons[i].name) != 0)
			continue;
		printf("# /etc/citylink/%s.conf: citylink-%s's configuration, \"key = value\" lines.\n"
		       "# Every key is listed with its help and default, commented out; uncomment to\n"
		       "# change it. A flag (--key-name VALUE) overrides the file; the systemd unit\n"
		       "# passes --username and --password-file itself (see README, Operating).\n"
		       "# Generated from the option table by `make config-samples`: edit the table.\n\n",
		       daemons[i].name, daemons[i].name);
		if (config_write_sample(stdout, daemons[i].defs, *daemons[i].n) != 0 ||
		    fflush(stdout) != 0) {
			perror("config-sample");
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "usage: config-sample ingest|alerts\n");
	return 2;
}
