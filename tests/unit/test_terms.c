/* Shared numeric sub-expressions: canonicalisation at load, values (NaN = unknown). */
#include <math.h>

#include "alerts/terms.h"
#include "fixture.h"
#include "test.h"

struct env {
	struct norm_schema *s;
	const struct norm_standard *st;
	struct terms ts;
	struct norm_value v[16];
	unsigned char integer[16], boolean[16];
	int watch[16];
	struct eval_ctx c;
};

static int env_open(struct env *e)
{
	struct norm_diags d = {0};
	memset(e, 0, sizeof(*e));
	e->s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL, NULL, NULL, &d);
	diags_clear(&d);
	if (e->s == NULL || (e->st = norm_schema_standard(e->s, "air-quality")) == NULL)
		return -1;
	for (size_t f = 0; f < e->st->n_fields; f++) {
		e->integer[f] = e->st->fields[f].type == NORM_INTEGER;
		e->boolean[f] = e->st->fields[f].type == NORM_BOOLEAN;
		e->watch[f] = -1;
	}
	e->c = (struct eval_ctx){.st = e->st, .values = e->v, .time_ms = 1000, .watch = e->watch,
				 .integer = e->integer, .boolean = e->boolean};
	return 0;
}

static void env_close(struct env *e)
{
	terms_free(&e->ts);
	norm_schema_free(e->s);
}

/* The term of the left side of condition text ("X > 0"); UINT32_MAX on error. */
static uint32_t term_of(struct env *e, const char *text)
{
	struct expr *x = NULL;
	char err[200];
	size_t at;
	uint32_t id = UINT32_MAX;
	if (expr_parse(text, e->st, &x, err, sizeof(err), &at) != 0) {
		fprintf(stderr, "%s: %s\n", text, err);
		return UINT32_MAX;
	}
	if (terms_intern(&e->ts, x->left, &id) < 0)
		id = UINT32_MAX;
	expr_free(x);
	return id;
}

static void set(struct env *e, const char *field, double x)
{
	int f = norm_standard_field(e->st, field);
	e->v[f].present = 1;
	if (e->integer[f])
		e->v[f].integer = (int64_t)x;
	else
		e->v[f].number = x;
}

static void equal_subtrees_share_one_term(void)
{
	struct env e;
	ASSERT(env_open(&e) == 0);
	uint32_t a = term_of(&e, "abs(pm10 - pm25) > 5");
	size_t n = e.ts.n;
	ASSERT(a != UINT32_MAX);
	ASSERT_INT_EQ(term_of(&e, "abs( pm10-pm25 ) > 70"), a);
	ASSERT_INT_EQ(e.ts.n, n); /* nothing new */
	ASSERT(term_of(&e, "abs(pm25 - pm10) > 5") != a); /* subtraction does not commute */
	ASSERT_INT_EQ(term_of(&e, "pm10 + pm25 > 1"), term_of(&e, "pm25 + pm10 > 1"));
	ASSERT_INT_EQ(term_of(&e, "pm10 * 2 > 1"), term_of(&e, "2 * pm10 > 1"));
	ASSERT(term_of(&e, "pm10 * 2 > 1") != term_of(&e, "pm10 * 3 > 1"));
	ASSERT(term_of(&e, "delta(co2, 10m) > 1") != term_of(&e, "delta(co2, 5m) > 1"));
	ASSERT(term_of(&e, "delta(co2, 10m) > 1") != term_of(&e, "rate(co2, 10m) > 1"));
	ASSERT_INT_EQ(term_of(&e, "delta(co2, 600s) > 1"), term_of(&e, "delta(co2, 10m) > 1"));
	env_close(&e);
}

static void constants_fold(void)
{
	struct env e;
	double k = 0;
	ASSERT(env_open(&e) == 0);
	uint32_t t = term_of(&e, "-5 < pm25");
	ASSERT(terms_constant(&e.ts, t, &k));
	ASSERT_DBL_NEAR(k, -5, 0);
	ASSERT(terms_constant(&e.ts, term_of(&e, "2 * (3 + 4) < pm25"), &k));
	ASSERT_DBL_NEAR(k, 14, 0);
	ASSERT(terms_constant(&e.ts, term_of(&e, "1 / 0 < pm25"), &k));
	ASSERT(isnan(k)); /* unknown, as the tree says */
	ASSERT(!terms_constant(&e.ts, term_of(&e, "pm25 * 0 > 1"), &k));
	env_close(&e);
}

static void values_and_unknowns(void)
{
	struct env e;
	ASSERT(env_open(&e) == 0);
	uint32_t diff = term_of(&e, "abs(pm10 - pm25) > 0");
	uint32_t ratio = term_of(&e, "pm25 / (pm10 - 40) > 0");
	uint32_t co2 = term_of(&e, "co2 * 2 > 0");
	uint32_t delta = term_of(&e, "delta(co2, 1m) > 0");
	uint32_t sum = term_of(&e, "temperature + pm25 > 0");
	set(&e, "pm10", 40);
	set(&e, "pm25", 55.5);
	set(&e, "co2", 450);
	terms_eval(&e.ts, &e.c);
	ASSERT_DBL_NEAR(e.ts.val[diff], 15.5, 1e-12);
	ASSERT(isnan(e.ts.val[ratio]));    /* division by zero */
	ASSERT_DBL_NEAR(e.ts.val[co2], 900, 0); /* an integer field read as a number */
	ASSERT(isnan(e.ts.val[delta]));    /* no history */
	ASSERT(isnan(e.ts.val[sum]));      /* temperature missing */
	set(&e, "pm10", 45);
	set(&e, "temperature", 20);
	terms_eval(&e.ts, &e.c);           /* values follow the record */
	ASSERT_DBL_NEAR(e.ts.val[diff], 10.5, 1e-12);
	ASSERT_DBL_NEAR(e.ts.val[ratio], 11.1, 1e-12);
	ASSERT_DBL_NEAR(e.ts.val[sum], 75.5, 1e-12);
	e.v[norm_standard_field(e.st, "pm25")].present = 0;
	terms_eval(&e.ts, &e.c);
	ASSERT(isnan(e.ts.val[diff]));
	ASSERT(isnan(e.ts.val[ratio]));
	env_close(&e);
}

static void overflow_is_unknown(void)
{
	struct env e;
	ASSERT(env_open(&e) == 0);
	uint32_t big = term_of(&e, "pm25 * 1e308 * 10 > 0");
	set(&e, "pm25", 5);
	terms_eval(&e.ts, &e.c);
	ASSERT(isnan(e.ts.val[big]));
	env_close(&e);
}

static const struct test_case cases[] = {
	{"equal_subtrees_share_one_term", equal_subtrees_share_one_term},
	{"constants_fold", constants_fold},
	{"values_and_unknowns", values_and_unknowns},
	{"overflow_is_unknown", overflow_is_unknown},
	{NULL, NULL},
};

TEST_MAIN(cases)
