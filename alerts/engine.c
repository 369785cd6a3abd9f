/* The rule engine's state: building it from a schema, devices, restore and reload
 * (engine.h). Evaluation and timers are in engine_run.c. */
#include <stdlib.h>
#include <string.h>

#include "alerts/engine_internal.h"
#include "normalizer/expr.h"

const char *engine_strerror(int code)
{
	switch (code) {
	case ENGINE_OK: return "success";
	case ENGINE_EINVAL: return "unknown rule or standard";
	case ENGINE_ENOMEM: return "out of memory";
	}
	return "unknown error";
}

/* Marks the fields delta() and rate() read in x, and the longest window. */
static void watch_fields(const struct expr *x, int *watch, int64_t *keep_ms)
{
	if (x == NULL)
		return;
	if (x->kind == EXPR_DELTA || x->kind == EXPR_RATE) {
		watch[x->field] = 1;
		if (x->window_ms > *keep_ms)
			*keep_ms = x->window_ms;
	}
	watch_fields(x->left, watch, keep_ms);
	watch_fields(x->right, watch, keep_ms);
}

static int slot_init(struct slot *s, struct std_state *ss, const struct norm_rule *r)
{
	size_t at = 0, len = 0;
	*s = (struct slot){.for_ms = r->for_ms, .silent_ms = r->silent_ms};
	if (guards_add(&ss->guards, &ss->terms, ss->n_rules, r->when_expr) < 0)
		return -1;
	if (r->silent_ms > 0)
		ss->silent[ss->n_rules / 64] |= (uint64_t)1 << (ss->n_rules % 64);
	if (r->when_expr != NULL && program_add(&ss->prog, &ss->terms, r->when_expr, &at, &len) < 0)
		return -1;
	s->when_at = (uint32_t)at, s->when_len = (uint32_t)len;
	len = 0;
	if (r->clear_expr != NULL && program_add(&ss->prog, &ss->terms, r->clear_expr, &at, &len) < 0)
		return -1;
	s->clear_at = (uint32_t)at, s->clear_len = (uint32_t)len;
	return 0;
}

static size_t n_rules_of(const struct norm_standard *st, const struct norm_rule *rules, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += rules[i].standard == st;
	return count;
}

static int std_init(struct std_state *ss, const struct norm_standard *st,
		    const struct norm_rule *rules, size_t n)
{
	ss->st = st;
	ss->n_buckets = 64;
	ss->buckets = calloc(ss->n_buckets, sizeof(*ss->buckets));
	ss->watch = calloc(st->n_fields ? st->n_fields : 1, sizeof(*ss->watch));
	ss->integer = calloc(st->n_fields ? st->n_fields : 1, 1);
	ss->boolean = calloc(st->n_fields ? st->n_fields : 1, 1);
	ss->rules = calloc(n ? n : 1, sizeof(*ss->rules));
	ss->slots = calloc(n ? n : 1, sizeof(*ss->slots));
	ss->scratch = calloc(st->n_fields ? st->n_fields : 1, sizeof(*ss->scratch));
	if (ss->buckets == NULL || ss->watch == NULL || ss->integer == NULL || ss->boolean == NULL || ss->rules == NULL || ss->slots == NULL || ss->scratch == NULL)
		return ENGINE_ENOMEM;
	if (guards_init(&ss->guards, n_rules_of(st, rules, n)) < 0)
		return ENGINE_ENOMEM;
	ss->visit = calloc(ss->guards.words ? ss->guards.words : 1, sizeof(*ss->visit));
	ss->silent = calloc(ss->guards.words ? ss->guards.words : 1, sizeof(*ss->silent));
	if (ss->visit == NULL || ss->silent == NULL)
		return ENGINE_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (rules[i].standard != st)
			continue;
		if (slot_init(&ss->slots[ss->n_rules], ss, &rules[i]) < 0)
			return ENGINE_ENOMEM;
		ss->rules[ss->n_rules++] = &rules[i];
		ss->any_filter |= rules[i].n_devices > 0;
		ss->any_timer |= rules[i].for_ms > 0 || rules[i].silent_ms > 0;
		watch_fields(rules[i].when_expr, ss->watch, &ss->keep_ms);
		watch_fields(rules[i].clear_expr, ss->watch, &ss->keep_ms);
	}
	if (guards_finish(&ss->guards) < 0)
		return ENGINE_ENOMEM;
	for (size_t f = 0; f < st->n_fields; f++) {
		ss->watch[f] = ss->watch[f] ? (int)ss->n_watch++ : -1;
		ss->integer[f] = st->fields[f].type == NORM_INTEGER;
		ss->boolean[f] = st->fields[f].type == NORM_BOOLEAN;
	}
	return ENGINE_OK;
}

static void device_free(struct device *d, const struct norm_standard *st)
{
	for (size_t i = 0; d->text != NULL && i < st->n_fields; i++)
		free(d->text[i]);
	free(d->text);
	free(d->last);
	free(d->state);
	free(d->since);
	free(d->applies);
	history_free(&d->hist);
	free(d->source);
	free(d->id);
	free(d);
}

static void std_free(struct std_state *ss)
{
	for (struct device *d = ss->devices, *next; d != NULL; d = next) {
		next = d->all;
		device_free(d, ss->st);
	}
	free(ss->buckets);
	free(ss->watch);
	free(ss->integer);
	free(ss->boolean);
	program_free(&ss->prog);
	terms_free(&ss->terms);
	guards_free(&ss->guards);
	free(ss->visit);
	free(ss->silent);
	free(ss->rules);
	free(ss->slots);
	free(ss->scratch);
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n_stds; i++)
		std_free(&e->stds[i]);
	free(e->stds);
	free(e);
}

struct engine *engine_create(const struct norm_schema *s)
{
	size_t n_rules;
	const struct norm_rule *rules = norm_schema_rules(s, &n_rules);
	struct engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->schema = s;
	e->next_due = INT64_MAX;
	e->std_base = norm_schema_standards(s, &e->n_stds);
	e->stds = calloc(e->n_stds ? e->n_stds : 1, sizeof(*e->stds));
	if (e->stds == NULL)
		goto fail;
	for (size_t i = 0; i < e->n_stds; i++)
		if (std_init(&e->stds[i], &e->std_base[i], rules, n_rules) != ENGINE_OK)
			goto fail;
	return e;
fail:
	engine_free(e);
	return NULL;
}

struct std_state *engine_std(const struct engine *e, const struct norm_standard *st)
{
	if (st < e->std_base || st >= e->std_base + e->n_stds)
		return NULL;
	return &e->stds[st - e->std_base];
}

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037u;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

struct device *engine_find_device(const struct std_state *ss, const char *id)
{
	for (struct device *d = ss->buckets[hash(id) & (ss->n_buckets - 1)]; d != NULL; d = d->next)
		if (strcmp(d->id, id) == 0)
			return d;
	return NULL;
}

/* Doubles the table when it is as full as it is wide. */
static void maybe_grow(struct std_state *ss)
{
	if (ss->n_devices < ss->n_buckets)
		return;
	size_t n = ss->n_buckets * 2;
	struct device **b = calloc(n, sizeof(*b));
	if (b == NULL)
		return; /* longer chains, still correct */
	for (struct device *d = ss->devices; d != NULL; d = d->all) {
		size_t i = hash(d->id) & (n - 1);
		d->next = b[i];
		b[i] = d;
	}
	free(ss->buckets);
	ss->buckets = b;
	ss->n_buckets = n;
}

static int passes_filter(const struct norm_rule *r, const char *id)
{
	for (size_t i = 0; i < r->n_devices; i++)
		if (strcmp(r->devices[i], id) == 0)
			return 1;
	return r->n_devices == 0;
}

static struct device *device_new(const struct std_state *ss, const char *id)
{
	struct device *d = calloc(1, sizeof(*d));
	size_t nf = ss->st->n_fields ? ss->st->n_fields : 1;
	if (d == NULL)
		return NULL;
	d->id = strdup(id);
	d->last = calloc(nf, sizeof(*d->last));
	d->text = calloc(nf, sizeof(*d->text));
	d->state = calloc(ss->n_rules ? ss->n_rules : 1, sizeof(*d->state));
	d->since = calloc(ss->n_rules ? ss->n_rules : 1, sizeof(*d->since));
	if (ss->any_filter && (d->applies = calloc(ss->n_rules, 1)) != NULL)
		for (size_t i = 0; i < ss->n_rules; i++)
			d->applies[i] = (unsigned char)passes_filter(ss->rules[i], id);
	if (d->id == NULL || d->last == NULL || d->text == NULL || d->state == NULL || d->since == NULL ||
	    (ss->any_filter && d->applies == NULL) ||
	    (ss->n_watch > 0 && history_init(&d->hist, ss->n_watch) < 0)) {
		device_free(d, ss->st);
		return NULL;
	}
	return d;
}

struct device *engine_device(struct std_state *ss, const char *id)
{
	struct device *d = engine_find_device(ss, id);
	if (d != NULL)
		return d;
	if ((d = device_new(ss, id)) == NULL)
		return NULL;
	d->all = ss->devices;
	ss->devices = d;
	size_t i = hash(id) & (ss->n_buckets - 1);
	d->next = ss->buckets[i];
	ss->buckets[i] = d;
	ss->n_devices++;
	maybe_grow(ss);
	return d;
}

static int set_text(struct device *d, size_t i, const char *s, size_t len)
{
	char *copy = realloc(d->text[i], len + 1);
	if (copy == NULL)
		return ENGINE_ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	d->text[i] = copy;
	d->last[i].text = copy;
	d->last[i].text_len = len;
	return ENGINE_OK;
}

int engine_merge_values(struct device *d, const struct norm_standard *st,
			const struct norm_value *v)
{
	for (size_t i = 0; i < st->n_fields; i++) {
		if (!v[i].present)
			continue;
		if (st->fields[i].type == NORM_STRING) {
			if (set_text(d, i, v[i].text, v[i].text_len) != ENGINE_OK)
				return ENGINE_ENOMEM;
			d->last[i].present = 1;
		} else {
			d->last[i] = v[i];
		}
	}
	d->has_values = 1;
	return ENGINE_OK;
}

static const struct norm_rule *find_rule(const struct std_state *ss, const char *id, size_t *at)
{
	for (size_t i = 0; i < ss->n_rules; i++)
		if (strcmp(ss->rules[i]->id, id) == 0) {
			*at = i;
			return ss->rules[i];
		}
	return NULL;
}

int engine_restore_active(struct engine *e, const char *rule_id, const char *device)
{
	for (size_t s = 0; s < e->n_stds; s++) {
		size_t i;
		if (find_rule(&e->stds[s], rule_id, &i) == NULL)
			continue;
		struct device *d = engine_device(&e->stds[s], device);
		if (d == NULL)
			return ENGINE_ENOMEM;
		if (d->state[i] != COND_ACTIVE)
			e->active++;
		d->state[i] = COND_ACTIVE;
		return ENGINE_OK;
	}
	return ENGINE_EINVAL;
}

int engine_restore_seen(struct engine *e, const char *standard, const char *device,
			int64_t last_seen_ms)
{
	const struct norm_standard *st = norm_schema_standard(e->schema, standard);
	struct std_state *ss;
	struct device *d;

	if (st == NULL || (ss = engine_std(e, st)) == NULL)
		return ENGINE_EINVAL;
	if ((d = engine_device(ss, device)) == NULL)
		return ENGINE_ENOMEM;
	if (!d->seen || last_seen_ms > d->last_seen_ms)
		d->last_seen_ms = last_seen_ms;
	d->seen = 1;
	e->next_due = INT64_MIN; /* the next tick rescans */
	return ENGINE_OK;
}

size_t engine_active_count(const struct engine *e)
{
	return e->active;
}

int engine_is_active(const struct engine *e, const char *rule_id, const char *device)
{
	for (size_t s = 0; s < e->n_stds; s++) {
		size_t i;
		const struct device *d;
		if (find_rule(&e->stds[s], rule_id, &i) != NULL &&
		    (d = engine_find_device(&e->stds[s], device)) != NULL)
			return d->state[i] == COND_ACTIVE;
	}
	return 0;
}
