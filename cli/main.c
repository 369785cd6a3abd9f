/* citylink: the tool for standards authors and operators. Dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

#define CITYLINK_VERSION "0.1.0"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"schema", cmd_schema, "schema check|doc|ddl DIR   check a schema set, write the vendor guide or the DDL"},
	{"normalize", cmd_normalize, "normalize --schemas DIR --topic TOPIC [FILE|-]   dry-run a payload"},
	{"db", cmd_db, "db migrate --db CONNINFO --schemas DIR   create or migrate the tables"},
	{"rejects", cmd_rejects, "rejects list|replay --db CONNINFO ...   refused payloads; re-run them after a fix"},
	{"status", cmd_status, "status [--broker URI]   every service's health and counters"},
	{"device", cmd_device, "device add|list|remove ID --source S   a device's broker account"},
	{"staff", cmd_staff, "staff add|list|remove NAME --group G   a staff member's broker account"},
	{"service", cmd_service, "service add|list|remove NAME [--role R]   a daemon's broker account"},
	{"simulate", cmd_simulate, "simulate --broker URI --schemas DIR [--devices N] [--rate R] ...   publish realistic vendor payloads"},
	{"notify", cmd_notify, "notify --group G --headline TEXT [--severity S] [--description TEXT] [--broker URI] [--db CONNINFO]   a manual notice to staff"},
	{"rules", cmd_rules, "rules check --schemas DIR   check the rules and groups (as schema check)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: citylink COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].help);
	fprintf(out, "  version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("citylink %s\n", CITYLINK_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "citylink: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
