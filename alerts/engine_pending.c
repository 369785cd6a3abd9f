/* Pending `for:` timers in and out of the engine, so the daemon can keep them in
 * PostgreSQL across a restart (engine.h). */
#include <stdlib.h>
#include <string.h>

#include "alerts/engine_internal.h"

void engine_report_pending(struct engine *e, int report)
{
	e->report_pending = report;
}

/* The standard holding rule id and its index there, or NULL. */
static struct std_state *rule_std(const struct engine *e, const char *rule_id, size_t *at)
{
	for (size_t s = 0; s < e->n_stds; s++)
		for (size_t i = 0; i < e->stds[s].n_rules; i++)
			if (strcmp(e->stds[s].rules[i]->id, rule_id) == 0) {
				*at = i;
				return &e->stds[s];
			}
	return NULL;
}

int engine_restore_pending(struct engine *e, const char *rule_id, const char *device,
			   int64_t since_ms)
{
	size_t i;
	struct std_state *ss = rule_std(e, rule_id, &i);
	struct device *d;

	if (ss == NULL || ss->slots[i].for_ms <= 0 || ss->slots[i].silent_ms > 0)
		return ENGINE_EINVAL;
	if ((d = engine_device(ss, device)) == NULL)
		return ENGINE_ENOMEM;
	if (d->applies != NULL && !d->applies[i])
		return ENGINE_EINVAL; /* the device stays known to the engine, idle: harmless */
	if (d->state[i] == COND_ACTIVE)
		return ENGINE_OK;
	d->state[i] = COND_PENDING;
	d->since[i] = since_ms;
	e->next_due = INT64_MIN; /* the next tick rescans */
	return ENGINE_OK;
}

int engine_is_pending(const struct engine *e, const char *rule_id, const char *device)
{
	size_t i;
	const struct std_state *ss = rule_std(e, rule_id, &i);
	const struct device *d = ss != NULL ? engine_find_device(ss, device) : NULL;

	return d != NULL && d->state[i] == COND_PENDING;
}

int engine_restore_values(struct engine *e, const struct std_record *r)
{
	struct std_state *ss = engine_std(e, r->standard);
	struct device *d;
	char *source;

	if (ss == NULL)
		return ENGINE_EINVAL;
	if ((d = engine_device(ss, r->device)) == NULL || (source = strdup(r->source)) == NULL)
		return ENGINE_ENOMEM;
	free(d->source);
	d->source = source;
	d->time_ms = r->time_ms;
	return engine_merge_values(d, ss->st, r->values);
}
