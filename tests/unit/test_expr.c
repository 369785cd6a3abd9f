/* Rule expressions: grammar, precedence, type checking and error positions. */
#include "fixture.h"
#include "normalizer/expr.h"
#include "test.h"

static struct norm_schema *aq(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL, NULL, NULL, &d);
	diags_clear(&d);
	return s;
}

/* Parses text; on error err holds "at N: message". */
static int parse(const char *text, struct expr **e, char *err, size_t len)
{
	struct norm_schema *s = aq();
	char msg[200];
	size_t at = 0;
	int rc = expr_parse(text, norm_schema_standard(s, "air-quality"), e, msg, sizeof(msg), &at);
	if (rc != 0)
		snprintf(err, len, "at %zu: %s", at, msg);
	norm_schema_free(s);
	return rc;
}

static void expect_error(const char *text, const char *expected)
{
	struct expr *e = NULL;
	char err[256] = "";
	int rc = parse(text, &e, err, sizeof(err));
	expr_free(e);
	if (rc != -1 || strcmp(err, expected) != 0) {
		fprintf(stderr, "expression: %s\n  got:      %d %s\n  expected: %s\n", text, rc, err, expected);
		test_case_failed = 1;
	}
}

static void precedence(void)
{
	struct expr *e;
	char err[256];
	ASSERT_INT_EQ(parse("pm25 > 75 and not window_open or co2 + 2 * 3 >= 1000", &e, err, sizeof(err)), 0);
	ASSERT_INT_EQ(e->kind, EXPR_OR);
	ASSERT_INT_EQ(e->left->kind, EXPR_AND);
	ASSERT_INT_EQ(e->left->right->kind, EXPR_NOT);
	ASSERT_INT_EQ(e->right->kind, EXPR_GE);
	ASSERT_INT_EQ(e->right->left->kind, EXPR_ADD);
	ASSERT_INT_EQ(e->right->left->right->kind, EXPR_MUL);
	expr_free(e);
}

static void functions_and_literals(void)
{
	struct expr *e;
	char err[256];
	ASSERT_INT_EQ(parse("abs(delta(temperature, 10m)) > 5 or rate(pm25, 1m) > 0.5", &e, err, sizeof(err)), 0);
	ASSERT_INT_EQ(e->left->left->kind, EXPR_ABS);
	ASSERT_INT_EQ(e->left->left->left->kind, EXPR_DELTA);
	ASSERT_INT_EQ(e->left->left->left->window_ms, 600000);
	ASSERT_INT_EQ(e->right->left->kind, EXPR_RATE);
	expr_free(e);
	ASSERT_INT_EQ(parse("state == 'fault' and window_open == true and -temperature < -(3)", &e, err, sizeof(err)), 0);
	expr_free(e);
	ASSERT_INT_EQ(parse("note != \"x y\"", &e, err, sizeof(err)), 0);
	expr_free(e);
}

static void type_errors(void)
{
	expect_error("pm99 > 5", "at 0: standard air-quality has no field \"pm99\"");
	expect_error("window_open > 5", "at 12: '>' needs a number on both sides, not a boolean");
	expect_error("window_open == 1", "at 12: '==' compares a boolean with a number");
	expect_error("state == 'broken'", "at 6: \"broken\" is not one of the values of state");
	expect_error("pm25 + 1", "at 0: the condition is a number, not true or false");
	expect_error("pm25 > 5 and co2", "at 9: 'and' needs a boolean on both sides, not a number");
	expect_error("not pm25", "at 0: 'not' needs a condition, not a number");
	expect_error("location == 1", "at 0: field location is a geo point and cannot be compared");
	expect_error("delta(state, 5m) > 1", "at 6: delta() needs a numeric field");
}

static void syntax_errors(void)
{
	expect_error("pm25 >", "at 6: the expression ends too early");
	expect_error("pm25 > 5 pm10", "at 9: unexpected 'p' after a complete expression");
	expect_error("(pm25 > 5", "at 9: expected ')'");
	expect_error("pm25 >> 5", "at 6: unexpected '>'");
	expect_error("sqrt(pm25) > 1", "at 0: unknown function \"sqrt\" (abs, delta, rate)");
	expect_error("delta(pm25, soon) > 1", "at 12: \"soon\" is not a duration (30s, 10m, 1h)");
	expect_error("note == 'open", "at 8: text starting here has no closing '");
}

static void depth_bounded(void)
{
	char deep[400];
	memset(deep, '(', 200);
	snprintf(deep + 200, sizeof(deep) - 200, "pm25 > 1");
	struct expr *e = NULL;
	char err[256];
	ASSERT_INT_EQ(parse(deep, &e, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "nested too deeply");
	memset(deep, '-', 200);
	ASSERT_INT_EQ(parse(deep, &e, err, sizeof(err)), -1);
}

static void rules_file_positions(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL,
					     "rules:\n  - id: r\n    standard: air-quality\n"
					     "    when: pm25 > 75 and state == 'bust'\n"
					     "    clear: \"pm25 <\"\n    severity: minor\n    notify: [g]\n",
					     "groups: [g]\n", &d);
	ASSERT(s == NULL);
	ASSERT_INT_EQ(d.n, 2);
	ASSERT_STR_EQ(d.lines[0], "rules/a.yaml:4:31: \"bust\" is not one of the values of state");
	ASSERT_STR_EQ(d.lines[1], "rules/a.yaml:5:19: the expression ends too early");
	diags_clear(&d);
}

static const struct test_case cases[] = {
	{"precedence", precedence},
	{"functions_and_literals", functions_and_literals},
	{"type_errors", type_errors},
	{"syntax_errors", syntax_errors},
	{"depth_bounded", depth_bounded},
	{"rules_file_positions", rules_file_positions},
	{NULL, NULL},
};

TEST_MAIN(cases)
