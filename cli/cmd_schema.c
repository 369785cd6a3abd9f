/* citylink schema check|doc|ddl DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/ddl.h"
#include "common/schema_dir.h"
#include "normalizer/normalize.h"

struct norm_schema *cli_load_schemas(const char *dir)
{
	struct norm_diags d = {0};
	struct norm_schema *s = NULL;
	int rc = schema_dir_load(dir, &s, &d);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.lines[i]);
	if (d.dropped > 0)
		fprintf(stderr, "%s: %zu more errors not shown\n", dir, d.dropped);
	if (rc == -2)
		fprintf(stderr, "citylink: out of memory loading %s\n", dir);
	else if (rc < 0)
		fprintf(stderr, "%s: %zu error%s, nothing loaded\n", dir, d.n + d.dropped,
			d.n + d.dropped == 1 ? "" : "s");
	diags_clear(&d);
	return s;
}

static int check(const char *dir)
{
	struct norm_schema *s = cli_load_schemas(dir);
	size_t standards, sources, rules;

	if (s == NULL)
		return 1;
	norm_schema_standards(s, &standards);
	norm_schema_sources(s, &sources);
	norm_schema_rules(s, &rules);
	printf("schemas OK: %zu standards, %zu sources, %zu rules\n", standards, sources, rules);
	norm_schema_free(s);
	return 0;
}

static int doc(const char *dir, int argc, char **argv)
{
	enum guide_format fmt = GUIDE_MD;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			const char *f = argv[++i];
			if (strcmp(f, "md") == 0)
				fmt = GUIDE_MD;
			else if (strcmp(f, "html") == 0)
				fmt = GUIDE_HTML;
			else {
				fprintf(stderr, "citylink: --format is md or html, not \"%s\"\n", f);
				return 2;
			}
		} else {
			fprintf(stderr, "citylink: schema doc: unknown argument \"%s\"\n", argv[i]);
			return 2;
		}
	}
	struct norm_schema *s = cli_load_schemas(dir);
	if (s == NULL)
		return 1;
	int rc = guide_write(stdout, s, fmt) < 0 || fflush(stdout) != 0 ? 1 : 0;
	norm_schema_free(s);
	return rc;
}

static int ddl(const char *dir)
{
	struct norm_schema *s = cli_load_schemas(dir);
	struct norm_buf out = {0};
	int rc = 1;

	if (s == NULL)
		return 1;
	if (ddl_generate(s, &out) == 0 && fwrite(out.data, 1, out.len, stdout) == out.len &&
	    fflush(stdout) == 0)
		rc = 0;
	else
		fprintf(stderr, "citylink: could not write the DDL\n");
	norm_buf_free(&out);
	norm_schema_free(s);
	return rc;
}

int cmd_schema(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: citylink schema check DIR\n"
				"       citylink schema doc DIR [--format md|html]\n"
				"       citylink schema ddl DIR\n");
		return 2;
	}
	if (strcmp(argv[0], "check") == 0 && argc == 2)
		return check(argv[1]);
	if (strcmp(argv[0], "doc") == 0)
		return doc(argv[1], argc - 2, argv + 2);
	if (strcmp(argv[0], "ddl") == 0 && argc == 2)
		return ddl(argv[1]);
	fprintf(stderr, "citylink: schema: unknown subcommand or arguments (check, doc, ddl)\n");
	return 2;
}
