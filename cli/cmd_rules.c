/*
 * citylink rules check --schemas DIR (or DIR): the rules and groups of a schema set. The
 * schema loader already parses and type-checks every rule (file:line:col), so this is
 * `schema check` that reports what the alerts daemon would run.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

int cmd_rules(int argc, char **argv)
{
	const char *dir = NULL;
	struct norm_schema *s;
	size_t rules, groups;

	if (argc == 3 && strcmp(argv[0], "check") == 0 && strcmp(argv[1], "--schemas") == 0)
		dir = argv[2];
	else if (argc == 2 && strcmp(argv[0], "check") == 0)
		dir = argv[1];
	if (dir == NULL) {
		fprintf(stderr, "usage: citylink rules check --schemas DIR\n");
		return 2;
	}
	if ((s = cli_load_schemas(dir)) == NULL)
		return 1;
	norm_schema_rules(s, &rules);
	norm_schema_groups(s, &groups);
	printf("rules OK: %zu rules, %zu groups\n", rules, groups);
	norm_schema_free(s);
	return 0;
}
