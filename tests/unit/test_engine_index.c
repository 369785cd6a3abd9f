/*
 * The engine's shortcuts (shared terms, the guard index, visiting only rules that can
 * change) against a plain reference that evaluates every rule's tree (eval.h) on every
 * record, for a rule set where many rules share sub-expressions and a few differ, with
 * unknown values, for:, clear, device filters, delta/rate and a silence rule. The two
 * must produce the same events, record by record and tick by tick.
 */
#include <math.h>
#include <stdlib.h>

#include "alerts/engine.h"
#include "alerts/eval.h"
#include "fixture.h"
#include "test.h"

#define DEVICES 4
#define MAX_RULES 128
#define MAX_FIELDS 16
#define RECORDS 4000

static const char *const DEVICE[DEVICES] = {"aq-0", "aq-1", "aq-2", "aq-3"};

enum { IDLE, PENDING, ACTIVE };

/* The reference: docs/rules.md read literally. */
struct model {
	const struct norm_standard *st;
	const struct norm_rule *rule[MAX_RULES];
	size_t n;
	unsigned char state[MAX_RULES][DEVICES];
	int64_t since[MAX_RULES][DEVICES];
	int seen[DEVICES];
	int64_t last_seen[DEVICES];
	struct history hist[DEVICES];
	int watch[MAX_FIELDS];
	unsigned char integer[MAX_FIELDS], boolean[MAX_FIELDS];
	size_t n_watch;
	int64_t keep_ms;
};

/* Events as text, "R rule device since at" or "C rule device at", one per line. */
struct log {
	char text[8192];
	size_t len;
};

static void log_add(struct log *l, char kind, const char *rule, const char *device, int64_t since,
		    int64_t at)
{
	int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%c %s %s %lld %lld\n", kind,
			 rule, device, (long long)since, (long long)at);
	if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
		l->len += (size_t)n;
}

static void watch_expr(struct model *m, const struct expr *x)
{
	if (x == NULL)
		return;
	if (x->kind == EXPR_DELTA || x->kind == EXPR_RATE) {
		m->watch[x->field] = 1;
		if (x->window_ms > m->keep_ms)
			m->keep_ms = x->window_ms;
	}
	watch_expr(m, x->left);
	watch_expr(m, x->right);
}

static int model_init(struct model *m, const struct norm_schema *s)
{
	size_t n;
	const struct norm_rule *rules = norm_schema_rules(s, &n);
	memset(m, 0, sizeof(*m));
	m->st = norm_schema_standard(s, "air-quality");
	for (size_t i = 0; i < n && m->n < MAX_RULES; i++)
		if (rules[i].standard == m->st) {
			m->rule[m->n++] = &rules[i];
			watch_expr(m, rules[i].when_expr);
			watch_expr(m, rules[i].clear_expr);
		}
	for (size_t f = 0; f < m->st->n_fields; f++) {
		m->watch[f] = m->watch[f] ? (int)m->n_watch++ : -1;
		m->integer[f] = m->st->fields[f].type == NORM_INTEGER;
		m->boolean[f] = m->st->fields[f].type == NORM_BOOLEAN;
	}
	for (int d = 0; d < DEVICES; d++)
		if (history_init(&m->hist[d], m->n_watch) < 0)
			return -1;
	return 0;
}

static void model_free(struct model *m)
{
	for (int d = 0; d < DEVICES; d++)
		history_free(&m->hist[d]);
}

static int applies(const struct norm_rule *r, int d)
{
	for (size_t i = 0; i < r->n_devices; i++)
		if (strcmp(r->devices[i], DEVICE[d]) == 0)
			return 1;
	return r->n_devices == 0;
}

/* One rule with a `when` on one record. */
static void model_when(struct model *m, size_t i, int d, const struct eval_ctx *c, int64_t now,
		       struct log *out)
{
	const struct norm_rule *r = m->rule[i];
	unsigned char *state = &m->state[i][d];
	if (*state == ACTIVE) {
		enum tri done = r->clear_expr != NULL ? eval_condition(r->clear_expr, c)
						      : tri_not(eval_condition(r->when_expr, c));
		if (done == TRI_TRUE) {
			*state = IDLE;
			log_add(out, 'C', r->id, DEVICE[d], now, now);
		}
		return;
	}
	enum tri w = eval_condition(r->when_expr, c);
	if (w == TRI_FALSE)
		*state = IDLE;
	if (w != TRI_TRUE)
		return;
	if (*state != PENDING) {
		*state = PENDING;
		m->since[i][d] = now;
	}
	if (now - m->since[i][d] >= r->for_ms) {
		*state = ACTIVE;
		log_add(out, 'R', r->id, DEVICE[d], m->since[i][d], m->since[i][d] + r->for_ms);
	}
}

static void model_record(struct model *m, int d, int64_t time_ms, const struct norm_value *v,
			 int64_t now, struct log *out)
{
	int in_order = m->n_watch > 0 && time_ms > history_newest(&m->hist[d]);
	struct eval_ctx c = {.st = m->st, .values = v, .time_ms = time_ms,
			     .h = in_order ? &m->hist[d] : NULL, .watch = m->watch,
			     .integer = m->integer, .boolean = m->boolean};
	m->seen[d] = 1;
	m->last_seen[d] = now;
	for (size_t i = 0; i < m->n; i++) {
		if (!applies(m->rule[i], d))
			continue;
		if (m->rule[i]->silent_ms == 0) {
			model_when(m, i, d, &c, now, out);
		} else if (m->state[i][d] == ACTIVE) {
			m->state[i][d] = IDLE;
			log_add(out, 'C', m->rule[i]->id, DEVICE[d], now, now);
		}
	}
	if (in_order) {
		double vals[MAX_FIELDS];
		for (size_t f = 0; f < m->st->n_fields; f++)
			if (m->watch[f] >= 0)
				vals[m->watch[f]] = !v[f].present ? NAN : m->integer[f] ? (double)v[f].integer
											: v[f].number;
		history_push(&m->hist[d], time_ms, vals, m->keep_ms);
	}
}

static void model_tick(struct model *m, int64_t now, struct log *out)
{
	for (int d = 0; d < DEVICES; d++)
		for (size_t i = 0; i < m->n; i++) {
			const struct norm_rule *r = m->rule[i];
			int64_t since;
			if (!applies(r, d))
				continue;
			if (r->silent_ms > 0 && m->state[i][d] == IDLE && m->seen[d])
				since = m->last_seen[d];
			else if (m->state[i][d] == PENDING)
				since = m->since[i][d];
			else
				continue;
			int64_t due = since + (r->silent_ms > 0 ? r->silent_ms : r->for_ms);
			if (due > now)
				continue;
			m->state[i][d] = ACTIVE;
			log_add(out, 'R', r->id, DEVICE[d], since, due);
		}
}

static void log_events(const struct engine_events *ev, struct log *out)
{
	for (size_t i = 0; i < ev->n; i++)
		log_add(out, ev->ev[i].kind == ENGINE_RAISE ? 'R' : 'C', ev->ev[i].rule->id,
			ev->ev[i].device, ev->ev[i].since_ms, ev->ev[i].at_ms);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of l in sorted order (ticks visit devices in another order). */
static void log_sort(struct log *l)
{
	char copy[sizeof(l->text)], *line[256];
	size_t n = 0;
	memcpy(copy, l->text, l->len);
	copy[l->len] = '\0';
	for (char *p = strtok(copy, "\n"); p != NULL && n < 256; p = strtok(NULL, "\n"))
		line[n++] = p;
	qsort(line, n, sizeof(*line), cmp_line);
	l->len = 0;
	for (size_t i = 0; i < n; i++)
		l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s\n", line[i]);
}

/* A rule set of many rules over few shared terms; returns a static buffer. */
static const char *rule_set(void)
{
	static char text[16384];
	size_t n = (size_t)snprintf(text, sizeof(text), "rules:\n  - {id: quiet, standard: air-quality,"
				   " silent: 2m, severity: minor, notify: [env]}\n");
	static const char *const singles[] = {
		"pm25 + pm10 < 30", "pm25 / (pm10 - 50) > 1", "rate(pm25, 1m) < -20",
		"pm25 > 90 or window_open", "not (pm25 < 60)", "humidity == 50", "humidity != 50",
		"pm25 > -5", "note == 'x' and pm25 > 50", "pm25 > 1 / 0", "pm10 >= pm25 * 2",
		"30 > pm10 and delta(co2, 1m) < 0", "pm25 - pm10 > 20", "pm10 - pm25 > 20", NULL};
	for (int k = 0; k < 12; k++) {
		n += (size_t)snprintf(text + n, sizeof(text) - n,
			"  - {id: diff%d, standard: air-quality, when: \"abs(pm10 - pm25) > %d\",%s"
			" severity: minor, notify: [env]}\n"
			"  - {id: pm%d, standard: air-quality, when: \"pm25 > %d\", %s severity: minor,"
			" notify: [env]}\n"
			"  - {id: sum%d, standard: air-quality, when: \"pm10 + pm25 >= %d\", severity: minor,"
			" notify: [env]%s}\n"
			"  - {id: warm%d, standard: air-quality, when: \"%d < temperature and humidity < 50\","
			" severity: minor, notify: [env]}\n"
			"  - {id: co2-%d, standard: air-quality, when: \"delta(co2, 1m) > %d\","
			" severity: minor, notify: [env]}\n",
			k, k * 8, k % 3 == 0 ? " for: 30s," : "",
			k, k * 8, k % 2 ? "for: 20s," : "clear: \"pm25 < 10\",",
			k, k * 15, k % 4 == 1 ? ", devices: [aq-1, aq-3]" : "",
			k, 10 + k,
			k, k * 20 - 100);
	}
	for (int i = 0; singles[i] != NULL; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "  - {id: one%d, standard: air-quality,"
				      " when: \"%s\", severity: minor, notify: [env]%s}\n", i, singles[i],
				      i % 5 == 2 ? ", for: 15s" : "");
	return text;
}

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xffffff;
}

/* Mostly present, sometimes absent (unknown). */
static void random_values(const struct norm_standard *st, struct norm_value *v, uint32_t *seed)
{
	memset(v, 0, sizeof(*v) * st->n_fields);
	for (size_t f = 0; f < st->n_fields; f++) {
		const char *name = st->fields[f].name;
		v[f].present = rnd(seed) % 10 != 0;
		if (strcmp(name, "co2") == 0)
			v[f].integer = 300 + rnd(seed) % 400;
		else if (strcmp(name, "humidity") == 0)
			v[f].number = 40 + 10 * (rnd(seed) % 3);
		else if (strcmp(name, "temperature") == 0)
			v[f].number = 5 + (rnd(seed) % 300) / 10.0;
		else if (st->fields[f].type == NORM_NUMBER)
			v[f].number = rnd(seed) % 100;
		else if (st->fields[f].type == NORM_BOOLEAN)
			v[f].boolean = rnd(seed) % 8 == 0;
		else if (strcmp(name, "note") == 0)
			v[f].text = rnd(seed) % 2 ? "x" : "y", v[f].text_len = 1;
		else
			v[f].present = 0;
	}
}

static void same_events_as_the_reference(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL, rule_set(),
					     "groups: [env]\n", &d);
	if (s == NULL)
		fprintf(stderr, "fixture: %s\n", fixture_first(&d));
	diags_clear(&d);
	ASSERT(s != NULL);
	struct engine *e = engine_create(s);
	struct engine_events ev = {0};
	struct model m;
	struct norm_value v[MAX_FIELDS];
	struct log want, got;
	uint32_t seed = 42;
	int64_t now = 1000000, time_ms[DEVICES] = {0};
	size_t events = 0;
	ASSERT(e != NULL && model_init(&m, s) == 0 && m.st->n_fields <= MAX_FIELDS);

	for (int i = 0; i < RECORDS && !test_case_failed; i++) {
		int dev = (int)(rnd(&seed) % DEVICES);
		now += 1000 + rnd(&seed) % 9000;
		/* now and then a record older than the last (history cannot place it) */
		time_ms[dev] = rnd(&seed) % 20 == 0 ? time_ms[dev] - 5000 : now - rnd(&seed) % 3000;
		random_values(m.st, v, &seed);
		struct std_record r = {.standard = m.st, .source = "acme", .device = DEVICE[dev],
				       .time_ms = time_ms[dev], .values = v};
		want.len = got.len = ev.n = 0;
		model_record(&m, dev, time_ms[dev], v, now, &want);
		ASSERT_INT_EQ(engine_record(e, &r, now, &ev), ENGINE_OK);
		log_events(&ev, &got);
		want.text[want.len] = got.text[got.len] = '\0';
		ASSERT_STR_EQ(got.text, want.text);
		events += ev.n;
		if (rnd(&seed) % 4 != 0)
			continue;
		want.len = got.len = ev.n = 0;
		model_tick(&m, now, &want);
		ASSERT_INT_EQ(engine_tick(e, now, &ev), ENGINE_OK);
		log_events(&ev, &got);
		log_sort(&want);
		log_sort(&got);
		want.text[want.len] = got.text[got.len] = '\0';
		ASSERT_STR_EQ(got.text, want.text);
		events += ev.n;
	}
	ASSERT(events > 1000); /* the comparison saw plenty of raises and clears */
	model_free(&m);
	free(ev.ev);
	engine_free(e);
	norm_schema_free(s);
}

/* Feeds pm10 and pm25 (NaN: absent) from device at record time = arrival now; the
 * number of events, -1 on error. */
static int feed(struct engine *e, const struct norm_standard *st, const char *device,
		double pm10, double pm25, int64_t now, struct engine_events *ev)
{
	struct norm_value v[MAX_FIELDS] = {{0}};
	int f10 = norm_standard_field(st, "pm10"), f25 = norm_standard_field(st, "pm25");
	v[f10] = (struct norm_value){.present = !isnan(pm10), .number = pm10};
	v[f25] = (struct norm_value){.present = !isnan(pm25), .number = pm25};
	struct std_record r = {.standard = st, .source = "acme", .device = device,
			       .time_ms = now, .values = v};
	ev->n = 0;
	return engine_record(e, &r, now, ev) == ENGINE_OK ? (int)ev->n : -1;
}

/* Three rules on one term: the pending one survives an unknown value, the filtered one
 * never sees aq-2, and the one with a clear holds until its clear is true. */
static void shared_term_with_for_clear_and_filter(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL,
		"rules:\n"
		"  - {id: slow, standard: air-quality, when: abs(pm10 - pm25) > 30, for: 10s,"
		" severity: minor, notify: [env]}\n"
		"  - {id: some, standard: air-quality, when: abs(pm25 - pm10) > 30,"
		" devices: [aq-1], severity: minor, notify: [env]}\n"
		"  - {id: held, standard: air-quality, when: abs(pm10 - pm25) > 50,"
		" clear: abs(pm10 - pm25) < 10, severity: minor, notify: [env]}\n",
		"groups: [env]\n", &d);
	diags_clear(&d);
	ASSERT(s != NULL);
	const struct norm_standard *st = norm_schema_standard(s, "air-quality");
	struct engine *e = engine_create(s);
	struct engine_events ev = {0};
	ASSERT(e != NULL);
	ASSERT_INT_EQ(feed(e, st, "aq-2", 10, 50, 1000, &ev), 0);    /* slow pending */
	ASSERT_INT_EQ(feed(e, st, "aq-2", NAN, 50, 5000, &ev), 0);   /* unknown: still pending */
	ASSERT_INT_EQ(engine_tick(e, 11000, &ev), ENGINE_OK);
	ASSERT_INT_EQ(ev.n, 1);
	ASSERT_STR_EQ(ev.ev[0].rule->id, "slow");
	ASSERT_INT_EQ(ev.ev[0].since_ms, 1000);
	ASSERT_INT_EQ(feed(e, st, "aq-1", 10, 50, 12000, &ev), 1);   /* some: aq-1 only */
	ASSERT_STR_EQ(ev.ev[0].rule->id, "some");
	ASSERT_INT_EQ(feed(e, st, "aq-2", 0, 60, 13000, &ev), 1);    /* held raises */
	ASSERT_STR_EQ(ev.ev[0].rule->id, "held");
	ASSERT_INT_EQ(feed(e, st, "aq-2", 0, 20, 14000, &ev), 1);    /* slow clears, held holds */
	ASSERT_STR_EQ(ev.ev[0].rule->id, "slow");
	ASSERT_INT_EQ(feed(e, st, "aq-2", 0, NAN, 15000, &ev), 0);   /* unknown never clears */
	ASSERT_INT_EQ(feed(e, st, "aq-2", 0, 5, 16000, &ev), 1);
	ASSERT_STR_EQ(ev.ev[0].rule->id, "held");
	ASSERT_INT_EQ(ev.ev[0].kind, ENGINE_CLEAR);
	ASSERT_INT_EQ(engine_active_count(e), 1);                     /* some on aq-1 */
	free(ev.ev);
	engine_free(e);
	norm_schema_free(s);
}

static const struct test_case cases[] = {
	{"same_events_as_the_reference", same_events_as_the_reference},
	{"shared_term_with_for_clear_and_filter", shared_term_with_for_clear_and_filter},
	{NULL, NULL},
};

TEST_MAIN(cases)
