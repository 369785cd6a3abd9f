/* The rule engine at work: records in, raise/clear events out, and the for:/silent:
 * timers (engine.h; the semantics are in docs/rules.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/engine_internal.h"
#include "alerts/eval.h"
#include "alerts/guards.h"

int engine_emit(struct engine_events *out, enum engine_event_kind kind, const struct norm_rule *r,
		const struct std_state *ss, const struct device *d, int64_t since, int64_t at)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct engine_event *grown = realloc(out->ev, cap * sizeof(*grown));
		if (grown == NULL)
			return ENGINE_ENOMEM;
		out->ev = grown;
		out->cap = cap;
	}
	struct engine_event *ev = &out->ev[out->n++];
	*ev = (struct engine_event){.kind = kind, .rule = r, .device = d->id, .source = d->source,
				    .since_ms = since, .at_ms = at, .time_ms = d->time_ms,
				    .values = d->has_values ? d->last : NULL};
	for (size_t i = 0; d->has_values && i < ss->st->n_fields; i++)
		if (ss->st->fields[i].type == NORM_GEO && d->last[i].present) {
			ev->has_location = 1;
			ev->lat = d->last[i].lat;
			ev->lon = d->last[i].lon;
			break;
		}
	return ENGINE_OK;
}

static void lower_due(struct engine *e, int64_t at)
{
	if (at < e->next_due)
		e->next_due = at;
}

/* One `when` rule on one record. */
static int step_when(struct engine *e, const struct std_state *ss, size_t i, struct device *d,
		     const struct eval_ctx *c, int64_t now, struct engine_events *out)
{
	const struct slot *r = &ss->slots[i];
	unsigned char *state = &d->state[i];

	if (*state == COND_ACTIVE) {
		const struct insn *code = ss->prog.code;
		enum tri done = r->clear_len > 0 ? program_run(code + r->clear_at, r->clear_len, c)
						 : tri_not(program_run(code + r->when_at, r->when_len, c));
		if (done != TRI_TRUE)
			return ENGINE_OK;
		*state = COND_IDLE;
		e->active--;
		return engine_emit(out, ENGINE_CLEAR, ss->rules[i], ss, d, now, now);
	}
	enum tri w = program_run(ss->prog.code + r->when_at, r->when_len, c);
	int started = 0;
	if (w == TRI_FALSE && *state == COND_PENDING) {
		*state = COND_IDLE;          /* cancels a pending for: */
		if (e->report_pending)
			return engine_emit(out, ENGINE_CANCEL, ss->rules[i], ss, d, d->since[i], now);
	}
	if (w != TRI_TRUE)
		return ENGINE_OK;
	if (*state != COND_PENDING) {
		*state = COND_PENDING;
		d->since[i] = now;
		started = 1;
	}
	if (now - d->since[i] < r->for_ms) {
		lower_due(e, d->since[i] + r->for_ms);
		/* Only the start is reported, so a `for:` costs the daemon one write, not one
		 * per record while it counts. */
		if (started && e->report_pending)
			return engine_emit(out, ENGINE_PENDING, ss->rules[i], ss, d, now,
					   now + r->for_ms);
		return ENGINE_OK;
	}
	*state = COND_ACTIVE;
	e->active++;
	return engine_emit(out, ENGINE_RAISE, ss->rules[i], ss, d, d->since[i], d->since[i] + r->for_ms);
}

/* Rule i, which the record may change, for device d. */
static int step_rule(struct engine *e, const struct std_state *ss, size_t i, struct device *d,
		     const struct eval_ctx *c, int64_t now, struct engine_events *out)
{
	if (d->applies != NULL && !d->applies[i])
		return ENGINE_OK;
	if (ss->slots[i].silent_ms == 0)
		return step_when(e, ss, i, d, c, now, out);
	/* The deadline moved later; it is only new to the cached bound when the device is
	 * new or its silence just ended. */
	lower_due(e, now + ss->slots[i].silent_ms);
	if (d->state[i] != COND_ACTIVE)
		return ENGINE_OK;
	d->state[i] = COND_IDLE;
	e->active--;
	return engine_emit(out, ENGINE_CLEAR, ss->rules[i], ss, d, now, now);
}

/* The record's watched values, NaN where absent, for the history. */
static const double *watched(const struct std_state *ss, const struct norm_value *v)
{
	for (size_t f = 0; f < ss->st->n_fields; f++) {
		if (ss->watch[f] < 0)
			continue;
		double x = NAN;
		if (v[f].present)
			x = ss->st->fields[f].type == NORM_INTEGER ? (double)v[f].integer : v[f].number;
		ss->scratch[ss->watch[f]] = x;
	}
	return ss->scratch;
}

static int note_arrival(const struct std_state *ss, struct device *d, const struct std_record *r,
			int64_t now)
{
	if (d->source == NULL || strcmp(d->source, r->source) != 0) {
		char *copy = strdup(r->source);
		if (copy == NULL)
			return ENGINE_ENOMEM;
		free(d->source);
		d->source = copy;
	}
	d->seen = 1;
	d->last_seen_ms = now;
	d->time_ms = r->time_ms;
	return engine_merge_values(d, ss->st, r->values);
}

int engine_record(struct engine *e, const struct std_record *r, int64_t now_ms,
		  struct engine_events *out)
{
	struct std_state *ss = engine_std(e, r->standard);
	struct device *d;
	int rc = ENGINE_OK;

	if (ss == NULL)
		return ENGINE_EINVAL;
	if ((d = engine_device(ss, r->device)) == NULL || note_arrival(ss, d, r, now_ms) != 0)
		return ENGINE_ENOMEM;
	/* History is by record time: a record not newer than the newest kept cannot be placed,
	 * so delta and rate are unknown for it and it is not kept. */
	int in_order = ss->n_watch > 0 && r->time_ms > history_newest(&d->hist);
	struct eval_ctx c = {.st = ss->st, .values = r->values, .time_ms = r->time_ms,
			     .h = in_order ? &d->hist : NULL, .watch = ss->watch,
			     .integer = ss->integer, .boolean = ss->boolean, .terms = ss->terms.val};
	terms_eval(&ss->terms, &c);
	/* Only rules that can change: those whose guard holds, those without one, and those
	 * not idle for this device (pending or active). */
	guards_select(&ss->guards, ss->terms.val, ss->visit);
	guards_mark_nonzero(d->state, ss->n_rules, ss->visit);
	for (size_t w = 0; w < ss->guards.words && rc == ENGINE_OK; w++)
		for (uint64_t bits = ss->visit[w]; bits != 0 && rc == ENGINE_OK; bits &= bits - 1)
			rc = step_rule(e, ss, w * 64 + (size_t)__builtin_ctzll(bits), d, &c, now_ms, out);
	if (in_order)
		history_push(&d->hist, r->time_ms, watched(ss, r->values), ss->keep_ms);
	return rc;
}

/* Rule i's timer for device d, if it has one: fires it when due, else lowers *next. */
static int tick_rule(struct engine *e, const struct std_state *ss, size_t i, struct device *d,
		     int64_t now, int64_t *next, struct engine_events *out)
{
	const struct slot *r = &ss->slots[i];
	int64_t since, due;
	if (d->applies != NULL && !d->applies[i])
		return ENGINE_OK;
	if (r->silent_ms > 0 && d->state[i] == COND_IDLE && d->seen)
		since = d->last_seen_ms, due = since + r->silent_ms;
	else if (d->state[i] == COND_PENDING)
		since = d->since[i], due = since + r->for_ms;
	else
		return ENGINE_OK;
	if (due > now) {
		if (due < *next)
			*next = due;
		return ENGINE_OK;
	}
	d->state[i] = COND_ACTIVE;
	e->active++;
	return engine_emit(out, ENGINE_RAISE, ss->rules[i], ss, d, since, due);
}

/* Fires the due timers of one device; lowers *next to its next timer. Only silence rules
 * and pending ones have a timer: the others are not visited. */
static int tick_device(struct engine *e, struct std_state *ss, struct device *d,
		       int64_t now, int64_t *next, struct engine_events *out)
{
	int rc = ENGINE_OK;
	memcpy(ss->visit, ss->silent, ss->guards.words * sizeof(*ss->visit));
	guards_mark_nonzero(d->state, ss->n_rules, ss->visit);
	for (size_t w = 0; w < ss->guards.words && rc == ENGINE_OK; w++)
		for (uint64_t bits = ss->visit[w]; bits != 0 && rc == ENGINE_OK; bits &= bits - 1)
			rc = tick_rule(e, ss, w * 64 + (size_t)__builtin_ctzll(bits), d, now, next, out);
	return rc;
}

int engine_tick(struct engine *e, int64_t now_ms, struct engine_events *out)
{
	int64_t next = INT64_MAX;

	if (now_ms < e->next_due)
		return ENGINE_OK;
	for (size_t s = 0; s < e->n_stds; s++) {
		struct std_state *ss = &e->stds[s];
		if (!ss->any_timer)
			continue;
		for (struct device *d = ss->devices; d != NULL; d = d->all)
			if (tick_device(e, ss, d, now_ms, &next, out) != ENGINE_OK) {
				e->next_due = INT64_MIN; /* try the rest again */
				return ENGINE_ENOMEM;
			}
	}
	e->next_due = next;
	return ENGINE_OK;
}

int64_t engine_next_due(const struct engine *e)
{
	return e->next_due;
}
