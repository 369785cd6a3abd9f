/* citylink db migrate --db CONNINFO --schemas DIR: creates or migrates forward every table
 * the schema set needs (the same DDL the ingest applies at start and on reload). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/store.h"

int cmd_db(int argc, char **argv)
{
	const char *db = NULL, *dir = NULL;
	struct norm_schema *s;
	struct store *st;
	char err[512];
	size_t n;
	int rc = 0;

	if (argc < 1 || strcmp(argv[0], "migrate") != 0)
		goto usage;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "--schemas") == 0)
			dir = argv[i + 1];
		else
			goto usage;
	}
	if (db == NULL || dir == NULL || argc % 2 == 0)
		goto usage;
	if ((s = cli_load_schemas(dir)) == NULL)
		return 1;
	st = store_connect(db, "citylink-migrate", err, sizeof(err));
	if (st == NULL || store_prepare(st, s, err, sizeof(err)) != 0) {
		fprintf(stderr, "citylink: db migrate: %s\n", err);
		rc = 2;
	} else {
		norm_schema_standards(s, &n);
		printf("database migrated: %zu standards\n", n);
	}
	store_close(st);
	norm_schema_free(s);
	return rc;
usage:
	fprintf(stderr, "usage: citylink db migrate --db CONNINFO --schemas DIR\n");
	return 2;
}
