/*
 * The simulator's generator (cli/sim.c) over the shipped schema set: every source gets
 * devices whose payloads normalize, the deliberately bad ones are refused, incidents make
 * their rule's `when` true and everyday records keep every rule quiet, the silent device
 * stops, and a seed gives the same messages again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sim.h"
#include "cli/sim_rules.h"
#include "common/schema_dir.h"
#include "normalizer/normalize.h"
#include "tests/unit/fixture.h"
#include "tests/unit/test.h"

#define T0 INT64_C(1795252200000) /* 2026-11-21T09:10:00Z */
#define STEP_MS 37000             /* ~ a day over 2,400 ticks */
#define TICKS 2400

static struct norm_schema *load_shipped(void)
{
	char dir[4096];
	struct norm_schema *s = NULL;
	struct norm_diags d = {0};

	snprintf(dir, sizeof(dir), "%s/schemas", fixture_repo());
	if (schema_dir_load(dir, &s, &d) != 0) {
		fprintf(stderr, "cannot load %s: %s\n", dir, fixture_first(&d));
		s = NULL;
	}
	diags_clear(&d);
	return s;
}

static struct sim_options options(int devices, uint64_t seed, double bad)
{
	struct sim_options o = {devices, seed, bad, 0.02, 3600 * 1000};
	return o;
}

/* The record as the rule evaluator's row (numbers, booleans, enum indexes). */
static void record_row(const struct norm_record *rec, struct example_value *row)
{
	const struct norm_standard *st = rec->source->standard;

	for (size_t i = 0; i < st->n_fields; i++) {
		const struct norm_value *v = &rec->values[i];
		memset(&row[i], 0, sizeof(row[i]));
		row[i].set = v->present && st->fields[i].type != NORM_GEO &&
			     st->fields[i].type != NORM_STRING;
		if (st->fields[i].type == NORM_NUMBER)
			row[i].number = v->number;
		else if (st->fields[i].type == NORM_INTEGER)
			row[i].number = (double)v->integer;
		else if (st->fields[i].type == NORM_BOOLEAN)
			row[i].number = v->boolean;
		else if (st->fields[i].type == NORM_ENUM)
			row[i].number = (double)v->enum_index;
	}
}

struct tally {
	size_t n_sources;
	size_t per_source[256];
	size_t good, bad_malformed, bad_range, incidents, quiet_checked;
	char problem[1024];
};

/* Normalizes one message and checks it against what the generator meant. */
static int check_message(const struct norm_schema *s, const struct sim_message *m, int64_t now,
			 struct norm_result *r, struct tally *t)
{
	size_t n_rules, n_src;
	const struct norm_rule *rules = norm_schema_rules(s, &n_rules);
	const struct norm_source *srcs = norm_schema_sources(s, &n_src);
	struct example_value row[64];
	int tripped = 0;
	int rc = norm_normalize(s, NULL, m->topic, strlen(m->topic), m->payload, strlen(m->payload),
				now, r);

	if (m->bad != SIM_GOOD) {
		if (rc != NORM_REJECT) {
			snprintf(t->problem, sizeof(t->problem), "bad message accepted on %s: %s",
				 m->topic, m->payload);
			return -1;
		}
		m->bad == SIM_BAD_RANGE ? t->bad_range++ : t->bad_malformed++;
		return 0;
	}
	if (rc != NORM_OK || norm_result_source(r) != m->source || norm_result_count(r) == 0) {
		snprintf(t->problem, sizeof(t->problem), "%s on %s: %s (%s)", rc ? "refused" : "wrong source",
			 m->topic, m->payload, norm_result_reason(r));
		return -1;
	}
	t->good++;
	t->per_source[m->source - srcs]++;
	for (size_t i = 0; i < norm_result_count(r); i++) {
		const struct norm_record *rec = norm_result_record(r, i);
		/* SenML names its device in the base name: urn:dev:<id> */
		if (strstr(rec->device, m->device) == NULL) {
			snprintf(t->problem, sizeof(t->problem), "device %s, expected %s", rec->device, m->device);
			return -1;
		}
		if (rec->source->standard->n_fields > 64)
			continue;
		record_row(rec, row);
		for (size_t k = 0; k < n_rules; k++) {
			const struct norm_rule *rule = &rules[k];
			if (rule->standard != rec->source->standard || rule->when_expr == NULL ||
			    m->source->format == NORM_FMT_SCALAR) /* one field per message */
				continue;
			int holds = sim_rule_holds(rule, row);
			tripped += rule == m->incident && holds != 0;
			if (m->incident == NULL && holds == 1) {
				snprintf(t->problem, sizeof(t->problem), "everyday record trips %s: %s",
					 rule->id, m->payload);
				return -1;
			}
			t->incidents += rule == m->incident && holds == 1;
			t->quiet_checked += m->incident == NULL && holds == 0;
		}
	}
	/* a batch may start its incident at a later record */
	if (m->incident != NULL && m->source->format != NORM_FMT_SCALAR && tripped == 0) {
		snprintf(t->problem, sizeof(t->problem), "incident of %s does not trip it: %s",
			 m->incident->id, m->payload);
		return -1;
	}
	return 0;
}

static int run_ticks(const struct norm_schema *s, struct sim *sim, int ticks, struct tally *t)
{
	struct norm_result *r = norm_result_create();
	char err[512];
	int rc = r ? 0 : -1;

	for (int i = 0; i < ticks && rc == 0; i++) {
		struct sim_tick tick = {0};
		int64_t now = T0 + (int64_t)i * STEP_MS;
		rc = sim_next(sim, now, &tick, err, sizeof(err));
		if (rc != 0)
			snprintf(t->problem, sizeof(t->problem), "sim_next: %s", err);
		for (size_t k = 0; k < tick.n && rc == 0; k++)
			rc = check_message(s, &tick.items[k], now, r, t);
		sim_tick_free(&tick);
	}
	norm_result_free(r);
	return rc;
}

/* Runs ticks of a simulation of the shipped set with per_source devices per source;
 * 0, or -1 with the first problem printed. Coverage of the sources is in t. */
static int simulate_shipped(int per_source, uint64_t seed, double bad, int ticks, struct tally *t)
{
	struct norm_schema *s = load_shipped();
	struct sim *sim = NULL;
	char err[256];
	int rc = -1;

	if (s != NULL) {
		norm_schema_sources(s, &t->n_sources);
		struct sim_options o = options((int)t->n_sources * per_source, seed, bad);
		if ((sim = sim_create(s, &o, err, sizeof(err))) == NULL)
			snprintf(t->problem, sizeof(t->problem), "%s", err);
		else
			rc = run_ticks(s, sim, ticks, t);
	}
	if (rc != 0)
		fprintf(stderr, "%s\n", t->problem);
	sim_free(sim);
	norm_schema_free(s);
	return rc;
}

static void every_source_normalizes(void)
{
	struct tally *t = calloc(1, sizeof(*t));
	size_t uncovered = 0;

	ASSERT(t != NULL);
	int rc = simulate_shipped(2, 42, 0, TICKS, t);
	for (size_t i = 0; i < t->n_sources; i++)
		uncovered += t->per_source[i] == 0;
	size_t sources = t->n_sources, good = t->good, incidents = t->incidents, quiet = t->quiet_checked;
	free(t);
	ASSERT_INT_EQ(rc, 0);
	ASSERT(sources > 0);
	ASSERT_INT_EQ(uncovered, 0);
	ASSERT(good >= TICKS);
	ASSERT(incidents > 0);
	ASSERT(quiet > 0);
}

static void bad_messages_are_refused(void)
{
	struct tally *t = calloc(1, sizeof(*t));

	ASSERT(t != NULL);
	int rc = simulate_shipped(1, 7, 0.25, 1200, t);
	size_t malformed = t->bad_malformed, range = t->bad_range, good = t->good;
	free(t);
	ASSERT_INT_EQ(rc, 0);
	ASSERT(malformed > 0);
	ASSERT(range > 0);
	/* about a quarter, not all */
	ASSERT(good > 2 * (malformed + range));
}

/* Every message of n ticks, concatenated. */
static char *transcript(const struct norm_schema *s, uint64_t seed, int ticks)
{
	struct sim_options o = options(40, seed, 0.05);
	char err[256];
	struct sim *sim = sim_create(s, &o, err, sizeof(err));
	struct norm_buf b = {0};

	for (int i = 0; sim != NULL && i < ticks; i++) {
		struct sim_tick tick = {0};
		if (sim_next(sim, T0 + i * 500, &tick, err, sizeof(err)) == 0)
			for (size_t k = 0; k < tick.n; k++)
				norm_buf_printf(&b, "%s %s\n", tick.items[k].topic, tick.items[k].payload);
		sim_tick_free(&tick);
	}
	sim_free(sim);
	return b.data;
}

static void same_seed_same_messages(void)
{
	struct norm_schema *s = load_shipped();
	ASSERT(s != NULL);
	char *a = transcript(s, 1, 300), *b = transcript(s, 1, 300), *c = transcript(s, 2, 300);
	int same = a && b && strcmp(a, b) == 0, differ = a && c && strcmp(a, c) != 0;
	free(a);
	free(b);
	free(c);
	norm_schema_free(s);
	ASSERT(same);
	ASSERT(differ);
}

static void silent_device_stops(void)
{
	struct norm_schema *s = load_shipped();
	const struct norm_rule *rule = NULL, *rules;
	size_t n_rules, seen_before = 0, seen_after = 0;
	char err[256];

	ASSERT(s != NULL);
	struct sim_options o = options(45, 3, 0);
	o.silent_after_ms = 60 * 1000;
	struct sim *sim = sim_create(s, &o, err, sizeof(err));
	ASSERT(sim != NULL);
	const char *silent = sim_silent_device(sim, &rule);
	for (int i = 0; i < 45 * 8; i++) {
		struct sim_tick tick = {0};
		int64_t now = T0 + i * 500; /* 180 s */
		ASSERT_INT_EQ(sim_next(sim, now, &tick, err, sizeof(err)), 0);
		for (size_t k = 0; k < tick.n; k++)
			if (strcmp(tick.items[k].device, silent) == 0)
				now - T0 < 60 * 1000 ? seen_before++ : seen_after++;
		sim_tick_free(&tick);
	}
	rules = norm_schema_rules(s, &n_rules);
	int quickest = rule != NULL;
	for (size_t i = 0; rule != NULL && i < n_rules; i++)
		if (rules[i].silent_ms > 0 && rules[i].silent_ms < rule->silent_ms)
			quickest = 0;
	int matches = rule != NULL && strncmp(silent, "", 1) != 0;
	sim_free(sim);
	norm_schema_free(s);
	ASSERT(seen_before > 0);
	ASSERT_INT_EQ(seen_after, 0);
	ASSERT(quickest);
	ASSERT(matches);
}

static void refuses_no_devices(void)
{
	struct norm_schema *s = load_shipped();
	char err[256] = "";
	ASSERT(s != NULL);
	struct sim_options o = options(0, 1, 0);
	struct sim *sim = sim_create(s, &o, err, sizeof(err));
	norm_schema_free(s);
	ASSERT(sim == NULL);
	ASSERT_STR_EQ(err, "--devices must be at least 1");
}

static const struct test_case cases[] = {
	{"every_source_normalizes", every_source_normalizes},
	{"bad_messages_are_refused", bad_messages_are_refused},
	{"same_seed_same_messages", same_seed_same_messages},
	{"silent_device_stops", silent_device_stops},
	{"refuses_no_devices", refuses_no_devices},
	{NULL, NULL},
};

TEST_MAIN(cases)
