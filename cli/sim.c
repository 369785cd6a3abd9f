/* The simulator's devices (see sim.h). */
#include "cli/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/example.h"
#include "cli/sim_rules.h"
#include "cli/sim_values.h"

#define SIM_BATCH 2            /* records per json-batch message */
#define SIM_STEP_MS 1000       /* between a device's records: whole seconds, for unix_s sources */
#define SIM_TEXT 64            /* bytes per string value */
#define SIM_INCIDENT_TAIL_MS (60 * 1000) /* an incident outlasts its rule's `for:` by this */
#define SIM_FIRST_INCIDENT 3   /* the first device of a standard trips a rule at once at this record */

struct device {
	char id[96];
	const struct norm_source *src;
	int ordinal;       /* among the devices of its source */
	int first;         /* the first device of its standard */
	double lat, lon;
	int64_t last_ms;
	long records;
	const struct norm_rule *incident;
	int64_t incident_until;
};

struct sim {
	const struct norm_schema *schema;
	struct sim_options opt;
	struct sim_rng rng;
	struct device *devices;
	size_t n_devices, next, silent;
	const struct norm_rule *silent_rule;
	int64_t start_ms;              /* first message; -1 before */
	struct example_value *rows;    /* SIM_BATCH x the widest standard's fields */
	char *text;                    /* the same, SIM_TEXT bytes each */
	size_t width;
};

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

/* The device of the standard with the quickest silence rule (the last of its devices,
 * so it is not also the one tripping a rule at once). */
static void choose_silent(struct sim *sim)
{
	size_t n_rules;
	const struct norm_rule *rules = norm_schema_rules(sim->schema, &n_rules);

	for (size_t r = 0; r < n_rules; r++) {
		if (rules[r].silent_ms > 0 &&
		    (sim->silent_rule == NULL || rules[r].silent_ms < sim->silent_rule->silent_ms))
			sim->silent_rule = &rules[r];
	}
	for (size_t i = 0; i < sim->n_devices; i++)
		if (sim->silent_rule == NULL || sim->devices[i].src->standard == sim->silent_rule->standard)
			sim->silent = i;
}

static void make_devices(struct sim *sim, const struct norm_source *srcs, size_t n_srcs)
{
	for (size_t i = 0; i < sim->n_devices; i++) {
		struct device *d = &sim->devices[i];
		d->src = &srcs[i % n_srcs];
		d->ordinal = (int)(i / n_srcs);
		snprintf(d->id, sizeof(d->id), "%s-%02d", d->src->id, d->ordinal + 1);
		d->first = 1;
		for (size_t j = 0; j < i; j++)
			if (sim->devices[j].src->standard == d->src->standard)
				d->first = 0;
		/* around Seoul City Hall, to the metre */
		d->lat = nearbyint((37.5665 + (sim_rng_unit(&sim->rng) - 0.5) * 0.12) * 1e5) / 1e5;
		d->lon = nearbyint((126.9780 + (sim_rng_unit(&sim->rng) - 0.5) * 0.16) * 1e5) / 1e5;
	}
}

struct sim *sim_create(const struct norm_schema *s, const struct sim_options *o, char *err,
		       size_t errlen)
{
	size_t n_srcs, n_std;
	const struct norm_source *srcs = norm_schema_sources(s, &n_srcs);
	const struct norm_standard *stds = norm_schema_standards(s, &n_std);
	struct sim *sim;

	if (n_srcs == 0) {
		fail(err, errlen, "the schema set has no sources to simulate");
		return NULL;
	}
	if (o->devices < 1) {
		fail(err, errlen, "--devices must be at least 1");
		return NULL;
	}
	if ((sim = calloc(1, sizeof(*sim))) == NULL)
		goto nomem;
	sim->schema = s;
	sim->opt = *o;
	sim->rng.state = o->seed;
	sim->start_ms = -1;
	sim->n_devices = (size_t)o->devices;
	for (size_t i = 0; i < n_std; i++)
		if (stds[i].n_fields > sim->width)
			sim->width = stds[i].n_fields;
	sim->devices = calloc(sim->n_devices, sizeof(*sim->devices));
	sim->rows = calloc(SIM_BATCH * sim->width + 1, sizeof(*sim->rows));
	sim->text = calloc(SIM_BATCH * sim->width + 1, SIM_TEXT);
	if (sim->devices == NULL || sim->rows == NULL || sim->text == NULL)
		goto nomem;
	make_devices(sim, srcs, n_srcs);
	choose_silent(sim);
	return sim;
nomem:
	sim_free(sim);
	fail(err, errlen, "out of memory");
	return NULL;
}

void sim_free(struct sim *sim)
{
	if (sim == NULL)
		return;
	free(sim->devices);
	free(sim->rows);
	free(sim->text);
	free(sim);
}

size_t sim_device_count(const struct sim *sim)
{
	return sim->n_devices;
}

const char *sim_silent_device(const struct sim *sim, const struct norm_rule **rule)
{
	if (rule != NULL)
		*rule = sim->silent_rule;
	return sim->devices[sim->silent].id;
}

/* ---- incidents ---- */

/* A rule of st that a record can trip: one without `for:` when immediate, else any. */
static const struct norm_rule *pick_rule(struct sim *sim, const struct norm_standard *st,
					 int immediate)
{
	size_t n_rules, n = 0;
	const struct norm_rule *rules = norm_schema_rules(sim->schema, &n_rules);
	const struct norm_rule *chosen = NULL;

	for (size_t r = 0; r < n_rules; r++) {
		const struct norm_rule *rule = &rules[r];
		if (rule->standard != st || rule->when_expr == NULL || !sim_rule_triggerable(rule) ||
		    (immediate && rule->for_ms > 0))
			continue;
		/* reservoir sampling: each candidate equally likely */
		if (sim_rng_unit(&sim->rng) * (double)++n < 1.0)
			chosen = rule;
	}
	return chosen;
}

/* Starts, continues or ends d's incident for a record at t; the rule to trip, or NULL. */
static const struct norm_rule *incident_at(struct sim *sim, struct device *d, int64_t t)
{
	if (d->incident != NULL && t > d->incident_until)
		d->incident = NULL;
	if (d->incident == NULL) {
		int forced = d->first && d->records == SIM_FIRST_INCIDENT;
		if (forced || sim_rng_unit(&sim->rng) < sim->opt.incident_ratio)
			d->incident = pick_rule(sim, d->src->standard, forced);
		if (d->incident != NULL)
			d->incident_until = t + (d->incident->for_ms > 0
						 ? d->incident->for_ms + SIM_INCIDENT_TAIL_MS : 0);
	}
	return d->incident;
}

/* Everyday values with every rule quiet, then the incident's rule tripped. */
static void fill_row(struct sim *sim, struct device *d, int64_t t, struct example_value *row,
		     char *text)
{
	const struct norm_standard *st = d->src->standard;
	size_t n_rules;
	const struct norm_rule *rules = norm_schema_rules(sim->schema, &n_rules);
	const struct norm_rule *incident = incident_at(sim, d, t);

	sim_values_fill(st, d->ordinal, t, &sim->rng, row, text, SIM_TEXT);
	for (size_t r = 0; r < n_rules; r++)
		if (rules[r].standard == st && rules[r].when_expr != NULL)
			sim_rule_quiet(&rules[r], row, sim_rng_unit(&sim->rng));
	if (incident != NULL)
		sim_rule_trigger(incident, row);
	d->records++;
}

/* ---- bad messages ---- */

/* A numeric field with a range that the source carries as a number (not through a map
 * or the topic), chosen at random; -1 if none. */
static int range_victim(struct sim *sim, const struct norm_source *src)
{
	int chosen = -1, n = 0;

	for (size_t i = 0; i < src->n_mappings; i++) {
		const struct norm_mapping *m = &src->mappings[i];
		const struct norm_field *f = &src->standard->fields[m->field];
		if ((f->type == NORM_NUMBER || f->type == NORM_INTEGER) && f->has_range &&
		    m->n_map == 0 && m->topic_level == 0 && sim_rng_unit(&sim->rng) * ++n < 1.0)
			chosen = (int)m->field;
	}
	return chosen;
}

/* Decides whether this message is bad and how; sets the out-of-range value in row. */
static enum sim_bad make_bad(struct sim *sim, const struct norm_source *src,
			     struct example_value *row, int *field)
{
	int scalar = src->format == NORM_FMT_SCALAR;

	*field = -1;
	if (sim_rng_unit(&sim->rng) >= sim->opt.bad_ratio)
		return SIM_GOOD;
	if (scalar || sim_rng_unit(&sim->rng) < 0.5) {
		*field = range_victim(sim, src);
		if (*field >= 0) {
			const struct norm_field *f = &src->standard->fields[*field];
			row[*field].set = 1;
			row[*field].number = f->max + fmax(1, (f->max - f->min) * 0.5);
			if (f->type == NORM_INTEGER)
				row[*field].number = ceil(row[*field].number);
			return SIM_BAD_RANGE;
		}
	}
	return scalar ? SIM_GOOD : SIM_BAD_MALFORMED;
}

/* ---- the next tick ---- */

static struct device *next_device(struct sim *sim, int64_t now_ms)
{
	for (size_t tries = 0; tries < sim->n_devices; tries++) {
		size_t i = sim->next;
		sim->next = (sim->next + 1) % sim->n_devices;
		if (i == sim->silent && now_ms - sim->start_ms >= sim->opt.silent_after_ms)
			continue;
		return &sim->devices[i];
	}
	return NULL;
}

/* A scalar device reports one field per message, each at its own instant (two at one
 * instant would be two records for one device and time): the one with the bad value when
 * there is one, else the fields in turn. Other formats: the one message. */
static size_t pick_item(const struct example_set *set, const struct device *d, int bad_field)
{
	for (size_t i = 0; bad_field >= 0 && i < set->n; i++)
		if (set->items[i].mapping != NULL && (int)set->items[i].mapping->field == bad_field)
			return i;
	return (size_t)d->records % set->n;
}

/* Moves the chosen message into out; a malformed one is cut in half. */
static int take(struct example_set *set, const struct device *d, enum sim_bad bad, int bad_field,
		const struct norm_rule *incident, struct sim_tick *out)
{
	struct example *ex;
	struct sim_message *msg;

	if (set->n == 0)
		return 0;
	if ((out->items = calloc(1, sizeof(*out->items))) == NULL)
		return -1;
	ex = &set->items[pick_item(set, d, bad_field)];
	msg = &out->items[out->n++];
	msg->topic = ex->topic;
	msg->payload = ex->payload;
	ex->topic = ex->payload = NULL;
	msg->source = d->src;
	msg->device = d->id;
	msg->incident = incident;
	msg->bad = ex->mapping == NULL || (int)ex->mapping->field == bad_field ? bad : SIM_GOOD;
	if (msg->bad == SIM_BAD_MALFORMED)
		msg->payload[strlen(msg->payload) / 2] = '\0';
	return 0;
}

int sim_next(struct sim *sim, int64_t now_ms, struct sim_tick *out, char *err, size_t errlen)
{
	struct device *d;
	struct example_set set = {0};
	struct example_input in = {0};
	const struct norm_rule *incident = NULL;
	enum sim_bad bad;
	int bad_field, rc;

	if (sim->start_ms < 0)
		sim->start_ms = now_ms;
	if ((d = next_device(sim, now_ms)) == NULL)
		return 0;
	in.records = d->src->format == NORM_FMT_JSON_BATCH ? SIM_BATCH : 1;
	in.step_ms = SIM_STEP_MS;
	in.time_ms = now_ms - (in.records - 1) * SIM_STEP_MS;
	if (d->last_ms > 0 && in.time_ms < d->last_ms + SIM_STEP_MS)
		in.time_ms = d->last_ms + SIM_STEP_MS;
	d->last_ms = in.time_ms + (in.records - 1) * SIM_STEP_MS;
	for (int r = 0; r < in.records; r++) {
		int64_t t = in.time_ms + r * SIM_STEP_MS;
		fill_row(sim, d, t, &sim->rows[r * d->src->standard->n_fields],
			 &sim->text[(size_t)r * d->src->standard->n_fields * SIM_TEXT]);
		incident = incident ? incident : d->incident;
	}
	bad = make_bad(sim, d->src, sim->rows, &bad_field);
	in.device = d->id;
	in.lat = d->lat;
	in.lon = d->lon;
	in.compact = 1;
	in.values = sim->rows;
	rc = example_build_from(d->src, &in, &set, err, errlen);
	if (rc == 0 && take(&set, d, bad, bad_field, incident, out) < 0)
		rc = fail(err, errlen, "out of memory");
	example_set_free(&set);
	return rc;
}

void sim_tick_free(struct sim_tick *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].topic);
		free(t->items[i].payload);
	}
	free(t->items);
	t->items = NULL;
	t->n = 0;
}
