/* Runner for tests/unit/test.h: runs the cases (or only those named on the command line). */
#include "test.h"

int test_case_failed;

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int test_run_all(const struct test_case *cases, int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (const struct test_case *c = cases; c->name != NULL; c++) {
		if (!selected(c->name, argc, argv))
			continue;
		test_case_failed = 0;
		c->fn();
		if (test_case_failed) {
			fprintf(stderr, "FAIL %s\n", c->name);
			failed++;
		} else {
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
