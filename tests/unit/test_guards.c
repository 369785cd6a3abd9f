/* The guard index: which rules a term value lets through, for every comparison. */
#include <math.h>

#include "alerts/guards.h"
#include "fixture.h"
#include "test.h"

#define MAX_RULES 200

struct env {
	struct norm_schema *s;
	const struct norm_standard *st;
	struct terms ts;
	struct guards gs;
	struct expr *x[MAX_RULES];
	size_t n;
	uint64_t out[(MAX_RULES + 63) / 64];
};

/* An index over the conditions in when[] (NULL-terminated). */
static int env_open(struct env *e, const char *const *when)
{
	struct norm_diags d = {0};
	char err[200];
	size_t at;
	memset(e, 0, sizeof(*e));
	e->s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL, NULL, NULL, &d);
	diags_clear(&d);
	if (e->s == NULL || (e->st = norm_schema_standard(e->s, "air-quality")) == NULL)
		return -1;
	while (when[e->n] != NULL)
		e->n++;
	if (guards_init(&e->gs, e->n) < 0)
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		if (expr_parse(when[i], e->st, &e->x[i], err, sizeof(err), &at) != 0) {
			fprintf(stderr, "%s: %s\n", when[i], err);
			return -1;
		}
		if (guards_add(&e->gs, &e->ts, i, e->x[i]) < 0)
			return -1;
	}
	return guards_finish(&e->gs);
}

static void env_close(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		expr_free(e->x[i]);
	guards_free(&e->gs);
	terms_free(&e->ts);
	norm_schema_free(e->s);
}

/* The rules selected when numeric expression term is v (every other term unknown), as
 * a string of 0/1 per rule. */
static const char *select_at(struct env *e, const char *term, double v)
{
	static char bits[MAX_RULES + 1];
	char text[128], err[200];
	struct expr *x = NULL;
	uint32_t id;
	size_t at;
	double k;
	for (size_t t = 0; t < e->ts.n; t++)
		if (!terms_constant(&e->ts, (uint32_t)t, &k))
			e->ts.val[t] = NAN;
	snprintf(text, sizeof(text), "%s > 0", term);
	if (expr_parse(text, e->st, &x, err, sizeof(err), &at) != 0 ||
	    terms_intern(&e->ts, x->left, &id) < 0) {
		expr_free(x);
		return "bad term";
	}
	expr_free(x);
	e->ts.val[id] = v;
	guards_select(&e->gs, e->ts.val, e->out);
	for (size_t i = 0; i < e->n; i++)
		bits[i] = (char)('0' + (int)((e->out[i / 64] >> (i % 64)) & 1));
	bits[e->n] = '\0';
	return bits;
}

static void every_comparison(void)
{
	static const char *const when[] = {
		"pm25 > 10", "pm25 >= 10", "pm25 < 10", "pm25 <= 10", "pm25 == 10", "pm25 != 10",
		"pm25 > 20", "pm25 < 20", NULL};
	struct env e;
	ASSERT(env_open(&e, when) == 0);
	ASSERT_STR_EQ(select_at(&e, "pm25", 5), "00110101");
	ASSERT_STR_EQ(select_at(&e, "pm25", 10), "01011001");
	ASSERT_STR_EQ(select_at(&e, "pm25", 15), "11000101");
	ASSERT_STR_EQ(select_at(&e, "pm25", 20), "11000100");
	ASSERT_STR_EQ(select_at(&e, "pm25", 25), "11000110");
	ASSERT_STR_EQ(select_at(&e, "pm25", NAN), "00000000"); /* unknown: no guard holds */
	env_close(&e);
}

static void constant_on_the_left_and_folded(void)
{
	static const char *const when[] = {"10 < pm25", "-5 >= pm25", "pm25 > 2 * 10", NULL};
	struct env e;
	ASSERT(env_open(&e, when) == 0);
	ASSERT_STR_EQ(select_at(&e, "pm25", -10), "010");
	ASSERT_STR_EQ(select_at(&e, "pm25", 15), "100");
	ASSERT_STR_EQ(select_at(&e, "pm25", 25), "101");
	env_close(&e);
}

static void without_a_guard_always(void)
{
	static const char *const when[] = {
		"pm25 > 90 or window_open", "pm25 > pm10", "note == 'x'", "1 > 0",
		"pm25 > 1 / 0", "not (pm25 < 5)", "pm25 > 50", NULL};
	struct env e;
	ASSERT(env_open(&e, when) == 0);
	ASSERT_STR_EQ(select_at(&e, "pm25", 10), "1111110");
	ASSERT_STR_EQ(select_at(&e, "pm25", 60), "1111111");
	env_close(&e);
}

static void and_takes_a_side(void)
{
	static const char *const when[] = {
		"humidity < 20 and temperature > 30", "window_open and abs(pm10 - pm25) > 40", NULL};
	struct env e;
	ASSERT(env_open(&e, when) == 0);
	ASSERT_STR_EQ(select_at(&e, "humidity", 10), "10"); /* humidity 10 < 20 */
	ASSERT_STR_EQ(select_at(&e, "humidity", 30), "00");
	ASSERT_STR_EQ(select_at(&e, "abs(pm10 - pm25)", 50), "01");
	env_close(&e);
}

/* Many rules share one term and differ by constant; a few use other terms. */
static void many_share_a_few_differ(void)
{
	static char text[MAX_RULES][64];
	static const char *when[MAX_RULES + 1];
	struct env e;
	size_t n = 0;
	for (int k = 0; k < 150; k++, n++) {
		snprintf(text[n], sizeof(text[n]), "abs(pm10 - pm25) > %d", k % 2 ? 100 - k / 2 : k);
		when[n] = text[n];
	}
	when[n++] = "abs(pm25 - pm10) > 1000";
	when[n++] = "abs(pm10 - pm25) < 3";
	when[n++] = "abs(pm10 + pm25) > 1";
	when[n] = NULL;
	ASSERT(env_open(&e, when) == 0);
	ASSERT_INT_EQ(e.gs.n_groups, 4);
	const char *bits = select_at(&e, "abs(pm10 - pm25)", 50.5);
	for (int k = 0; k < 150; k++) {
		int limit = k % 2 ? 100 - k / 2 : k;
		ASSERT_INT_EQ(bits[k] - '0', 50.5 > limit);
	}
	ASSERT_STR_EQ(bits + 150, "000");
	ASSERT_STR_EQ(select_at(&e, "abs(pm10 - pm25)", 2) + 150, "010");
	env_close(&e);
}

static void mark_nonzero_states(void)
{
	unsigned char state[70] = {0};
	uint64_t out[2] = {0, 0};
	state[3] = 1;
	state[8] = 0x80;
	state[15] = 2;
	state[56] = 0xff;
	state[63] = 1;
	state[64] = 2;
	state[69] = 1;
	guards_mark_nonzero(state, sizeof(state), out);
	ASSERT_INT_EQ(out[0], ((uint64_t)1 << 3) | ((uint64_t)1 << 8) | ((uint64_t)1 << 15) |
			      ((uint64_t)1 << 56) | ((uint64_t)1 << 63));
	ASSERT_INT_EQ(out[1], ((uint64_t)1 << 0) | ((uint64_t)1 << 5));
	/* every single byte, every value */
	for (size_t i = 0; i < 64; i++)
		for (int v = 1; v < 256; v++) {
			unsigned char one[64] = {0};
			uint64_t got = 0;
			one[i] = (unsigned char)v;
			guards_mark_nonzero(one, sizeof(one), &got);
			ASSERT_INT_EQ(got, (uint64_t)1 << i);
		}
}

static const struct test_case cases[] = {
	{"every_comparison", every_comparison},
	{"constant_on_the_left_and_folded", constant_on_the_left_and_folded},
	{"without_a_guard_always", without_a_guard_always},
	{"and_takes_a_side", and_takes_a_side},
	{"many_share_a_few_differ", many_share_a_few_differ},
	{"mark_nonzero_states", mark_nonzero_states},
	{NULL, NULL},
};

TEST_MAIN(cases)
