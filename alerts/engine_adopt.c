/* SIGHUP: carrying condition state from the old engine into the new one (engine.h). */
#include <stdlib.h>
#include <string.h>

#include "alerts/engine_internal.h"

/* The old rule index of the new rule i, or -1 when the rule is new or changed kind. */
static long old_rule(const struct std_state *from, const struct norm_rule *r)
{
	for (size_t i = 0; i < from->n_rules; i++)
		if (strcmp(from->rules[i]->id, r->id) == 0)
			return (from->rules[i]->silent_ms > 0) == (r->silent_ms > 0) ? (long)i : -1;
	return -1;
}

/* Same watched fields by name and order: the history columns mean the same. */
static int same_watch(const struct std_state *to, const struct std_state *from)
{
	if (to->n_watch != from->n_watch)
		return 0;
	for (size_t f = 0; f < to->st->n_fields; f++) {
		if (to->watch[f] < 0)
			continue;
		int g = norm_standard_field(from->st, to->st->fields[f].name);
		if (g < 0 || from->watch[g] != to->watch[f])
			return 0;
	}
	return 1;
}

static int copy_values(struct device *to, const struct std_state *sto, const struct device *from,
		       const struct std_state *sfrom)
{
	struct norm_value *v = calloc(sto->st->n_fields ? sto->st->n_fields : 1, sizeof(*v));
	if (v == NULL)
		return ENGINE_ENOMEM;
	/* By field name, and only where the type is unchanged. */
	for (size_t f = 0; f < sto->st->n_fields; f++) {
		int g = norm_standard_field(sfrom->st, sto->st->fields[f].name);
		if (g >= 0 && sfrom->st->fields[g].type == sto->st->fields[f].type &&
		    sto->st->fields[f].type != NORM_ENUM)
			v[f] = from->last[g];
	}
	int rc = engine_merge_values(to, sto->st, v);
	to->has_values = from->has_values;
	free(v);
	return rc;
}

static int adopt_device(struct engine *e, struct std_state *sto, const struct std_state *sfrom,
			const struct device *from)
{
	struct device *d = engine_device(sto, from->id);
	if (d == NULL || (from->source != NULL && (d->source = strdup(from->source)) == NULL))
		return ENGINE_ENOMEM;
	d->seen = from->seen;
	d->last_seen_ms = from->last_seen_ms;
	d->time_ms = from->time_ms;
	if (copy_values(d, sto, from, sfrom) != ENGINE_OK)
		return ENGINE_ENOMEM;
	if (sto->n_watch > 0 && same_watch(sto, sfrom)) {
		history_free(&d->hist);
		if (history_copy(&d->hist, &from->hist) < 0)
			return ENGINE_ENOMEM;
	}
	for (size_t i = 0; i < sto->n_rules; i++) {
		long j = old_rule(sfrom, sto->rules[i]);
		/* A device the new filter excludes starts over (engine_is_active says 0). */
		if (j < 0 || (d->applies != NULL && !d->applies[i]))
			continue;
		d->state[i] = from->state[j];
		d->since[i] = from->since[j];
		e->active += d->state[i] == COND_ACTIVE;
	}
	return ENGINE_OK;
}

int engine_adopt_state(struct engine *to, const struct engine *from)
{
	for (size_t s = 0; s < to->n_stds; s++) {
		struct std_state *sto = &to->stds[s];
		const struct norm_standard *old = norm_schema_standard(from->schema, sto->st->id);
		const struct std_state *sfrom = old != NULL ? engine_std(from, old) : NULL;
		if (sfrom == NULL)
			continue;
		for (const struct device *d = sfrom->devices; d != NULL; d = d->all)
			if (adopt_device(to, sto, sfrom, d) != ENGINE_OK)
				return ENGINE_ENOMEM;
	}
	to->next_due = INT64_MIN; /* the next tick recomputes the timers */
	return ENGINE_OK;
}
