/* The situation lifecycle (see lifecycle.h). */
#include "alerts/lifecycle.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/ack.h"
#include "common/log.h"
#include "common/xmalloc.h"

struct life {
	struct sitstore *store;
	struct staff *staff;
	struct alerts_counters *k;
	const struct norm_schema *schema;
	struct situation *open;  /* the open situations */
	size_t n, cap;
};

struct life *life_create(struct sitstore *st, struct staff *staff, struct alerts_counters *k)
{
	struct life *l = xcalloc(1, sizeof(*l));

	l->store = st;
	l->staff = staff;
	l->k = k;
	return l;
}

void life_free(struct life *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		sit_clear(&l->open[i]);
	free(l->open);
	free(l);
}

void life_set_schema(struct life *l, const struct norm_schema *s)
{
	l->schema = s;
}

static const struct norm_rule *rule_of(const struct life *l, const char *id)
{
	size_t n;
	const struct norm_rule *r = norm_schema_rules(l->schema, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].id, id) == 0)
			return &r[i];
	return NULL;
}

static struct situation *find_open(struct life *l, const char *rule_id, const char *device)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->open[i].rule_id, rule_id) == 0 && strcmp(l->open[i].device, device) == 0)
			return &l->open[i];
	return NULL;
}

static struct situation *find_id(struct life *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->open[i].id, id) == 0)
			return &l->open[i];
	return NULL;
}

/* Takes s over (moved, not copied) into the open list. */
static void add_open(struct life *l, struct situation *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->open = xrealloc(l->open, l->cap * sizeof(*l->open));
	}
	l->open[l->n++] = *s;
	memset(s, 0, sizeof(*s));
	atomic_store(&l->k->open, l->n);
}

static void drop_open(struct life *l, struct situation *s)
{
	size_t i = (size_t)(s - l->open);

	sit_clear(s);
	l->open[i] = l->open[--l->n];
	atomic_store(&l->k->open, l->n);
}

/* Appends the groups of list to the comma-separated set *groups, skipping those in it. */
static void add_groups(char **groups, char *const *list, size_t n)
{
	struct norm_buf b = {0};

	xcheck(norm_buf_printf(&b, "%s", *groups != NULL ? *groups : ""));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(list[i]);
		int have = 0;
		for (const char *p = b.data; p != NULL && *p != '\0' && !have;) {
			const char *comma = strchr(p, ',');
			size_t plen = comma != NULL ? (size_t)(comma - p) : strlen(p);
			have = plen == len && memcmp(p, list[i], len) == 0;
			p = comma != NULL ? comma + 1 : NULL;
		}
		if (!have)
			xcheck(norm_buf_printf(&b, "%s%s", b.len > 0 ? "," : "", list[i]));
	}
	free(*groups);
	*groups = xstrdup(b.data);
	norm_buf_free(&b);
}

/* Queues s's messages; staff_flush sends them once the caller's lock is released, and
 * life_mark_sent then clears the row's unpublished mark. */
static void publish(struct life *l, const struct situation *s, const struct norm_rule *rule,
		    enum staff_notice notice, const char *notice_groups, int64_t now_ms)
{
	staff_publish(l->staff, s, rule, l->schema, notice, notice_groups, now_ms);
}

/* Commits a change of s (version bumped here) with its event, then publishes it. */
static int change(struct life *l, struct situation *s, const struct norm_rule *rule,
		  const char *kind, const char *by, const char *note, enum staff_notice notice,
		  const char *notice_groups, int64_t now_ms)
{
	char err[512];

	s->version++;
	if (sitstore_save(l->store, s, kind, by, note, NULL, err, sizeof(err)) != 0) {
		log_warnx("event=db_failed situation=%s change=%s error=\"%s\"", s->id, kind, err);
		return -1;
	}
	log_info("event=situation_%s situation=%s state=%s level=%d%s%s", kind, s->id,
		 sit_state_name(s->state), s->level, by != NULL ? " by=" : "", by != NULL ? by : "");
	publish(l, s, rule, notice, notice_groups, now_ms);
	return 0;
}

/* ---- raise and clear ---- */

/* The device's last values as a std/ record (JSON), or NULL when there are none. */
static char *record_json(const struct life *l, const struct engine_event *ev)
{
	const struct norm_source *src = ev->source ? norm_schema_source(l->schema, ev->source) : NULL;
	struct norm_record rec = {src, ev->device, ev->time_ms, ev->values};
	struct norm_buf b = {0};

	if (src == NULL || ev->values == NULL)
		return NULL;
	xcheck(norm_record_json(&rec, &b));
	return b.data;
}

static void arm_timers(struct situation *s, const struct norm_rule *r)
{
	s->next_escalation_at = r->n_escalate > 0 ? s->raised_at + r->escalate[0].after_ms : 0;
	s->next_reminder_at = r->remind_ms > 0 ? s->raised_at + r->remind_ms : 0;
	s->deadline_at = r->deadline_ms > 0 ? s->raised_at + r->deadline_ms : 0;
}

static int raise(struct life *l, const struct engine_event *ev, int64_t now_ms)
{
	const struct norm_rule *r = ev->rule;
	struct situation s = {0};
	char err[512];
	int rc;

	s.rule_id = xstrdup(r->id);
	s.device = xstrdup(ev->device);
	s.source = ev->source != NULL ? xstrdup(ev->source) : NULL;
	s.standard = xstrdup(r->standard->id);
	s.severity = xstrdup(norm_severity_name(r->severity));
	s.raised_at = ev->at_ms;
	s.record_json = record_json(l, ev);
	add_groups(&s.groups, r->notify, r->n_notify);
	arm_timers(&s, r);
	rc = sitstore_raise(l->store, &s, r->reraise_ms, err, sizeof(err));
	if (rc < 0) {
		log_warnx("event=db_failed rule=%s device=%s change=raise error=\"%s\"", r->id,
			  ev->device, err);
	} else if (rc == SITSTORE_ALREADY_OPEN) {
		log_debug("event=raise_ignored situation=%s reason=\"already open\"", s.id);
	} else if (rc == SITSTORE_SUPPRESSED) {
		atomic_fetch_add(&l->k->suppressed, 1);
		log_info("event=raise_suppressed rule=%s device=%s last=%s reason=\"reraise_after\"",
			 r->id, ev->device, s.id);
	} else {
		atomic_fetch_add(&l->k->raised, 1);
		log_info("event=situation_raised situation=%s groups=%s", s.id, s.groups);
		add_open(l, &s);
		sit_clear(&s);
		publish(l, &l->open[l->n - 1], r, STAFF_CHANGE, NULL, now_ms);
		return 0;
	}
	sit_clear(&s);
	return rc < 0 ? -1 : 0;
}

/* Cleared and closed in one step: nobody has to close a situation whose cause is gone. */
static int close_situation(struct life *l, struct situation *s, const struct norm_rule *r,
			   const char *note, int64_t now_ms)
{
	s->state = SIT_CLOSED;
	s->cleared_at = s->closed_at = now_ms;
	s->next_escalation_at = s->next_reminder_at = 0;
	if (change(l, s, r, "cleared", NULL, note, STAFF_CHANGE, NULL, now_ms) != 0)
		return -1;
	atomic_fetch_add(&l->k->cleared, 1);
	drop_open(l, s);
	return 0;
}

static int clear(struct life *l, const struct engine_event *ev, int64_t now_ms)
{
	struct situation *s = find_open(l, ev->rule->id, ev->device);
	char *json;

	if (s == NULL) {
		log_debug("event=clear_ignored rule=%s device=%s reason=\"no open situation\"",
			  ev->rule->id, ev->device);
		return 0;
	}
	if ((json = record_json(l, ev)) != NULL) {
		free(s->record_json);
		s->record_json = json;
	}
	return close_situation(l, s, ev->rule, "condition cleared", now_ms);
}

/* A `for:` started (PENDING) or stopped (CANCEL) counting: no message, only the row. */
static int pending(struct life *l, const struct engine_event *ev)
{
	char err[512], *json = ev->kind == ENGINE_PENDING ? record_json(l, ev) : NULL;
	int rc = ev->kind == ENGINE_PENDING
			 ? sitstore_pending_set(l->store, ev->rule->id, ev->device, ev->since_ms,
						json, err, sizeof(err))
			 : sitstore_pending_delete(l->store, ev->rule->id, ev->device, err,
						   sizeof(err));

	free(json);
	if (rc != 0) {
		log_warnx("event=db_failed rule=%s device=%s change=%s error=\"%s\"", ev->rule->id,
			  ev->device, ev->kind == ENGINE_PENDING ? "pending" : "cancel", err);
		return -1;
	}
	log_debug("event=for_%s rule=%s device=%s since_ms=%" PRId64, ev->kind == ENGINE_PENDING
		  ? "pending" : "cancelled", ev->rule->id, ev->device, ev->since_ms);
	return 0;
}

int life_event(struct life *l, const struct engine_event *ev, int64_t now_ms)
{
	switch (ev->kind) {
	case ENGINE_RAISE: return raise(l, ev, now_ms);
	case ENGINE_CLEAR: return clear(l, ev, now_ms);
	case ENGINE_PENDING:
	case ENGINE_CANCEL: return pending(l, ev);
	}
	return 0;
}

/* ---- acknowledgement ---- */

int life_ack(struct life *l, const char *id, const char *payload, size_t len, int64_t now_ms)
{
	struct situation *s = find_id(l, id);
	struct ack a;
	char err[256];

	if (s == NULL)
		snprintf(err, sizeof(err), "no open situation has this id");
	if (s == NULL || ack_parse(payload, len, id, &a, err, sizeof(err)) != 0) {
		atomic_fetch_add(&l->k->acks_refused, 1);
		log_warnx("event=ack_refused situation=%s reason=\"%s\"", id, err);
		return 0;
	}
	if (s->state == SIT_ACKNOWLEDGED) {
		log_info("event=ack_repeated situation=%s by=%s first_by=%s", id, a.by, s->acked_by);
		return 0;
	}
	free(s->acked_by);
	free(s->ack_note);
	s->acked_by = xstrdup(a.by);
	s->ack_note = a.note[0] != '\0' ? xstrdup(a.note) : NULL;
	s->acked_at = now_ms;
	s->state = SIT_ACKNOWLEDGED;
	/* Escalation and reminders are for situations nobody took; a deadline still runs. */
	s->next_escalation_at = s->next_reminder_at = 0;
	atomic_fetch_add(&l->k->acked, 1);
	return change(l, s, rule_of(l, s->rule_id), "acknowledged", a.by, s->ack_note,
		      STAFF_CHANGE, NULL, now_ms);
}

/* ---- timers ---- */

static char *join(char *const *list, size_t n)
{
	char *groups = NULL;

	add_groups(&groups, list, n);
	return groups;
}

static int escalate(struct life *l, struct situation *s, const struct norm_rule *r, int64_t now_ms)
{
	const struct norm_escalation *step = &r->escalate[s->level];

	add_groups(&s->groups, step->notify, step->n_notify);
	s->level++;
	s->state = SIT_ESCALATED;
	s->next_escalation_at = (size_t)s->level < r->n_escalate
					? s->raised_at + r->escalate[s->level].after_ms : 0;
	atomic_fetch_add(&l->k->escalated, 1);
	return change(l, s, r, "escalated", NULL, NULL, STAFF_CHANGE, NULL, now_ms);
}

static int remind(struct life *l, struct situation *s, const struct norm_rule *r, int64_t now_ms)
{
	/* One reminder however late the tick: the next one stays on the rule's period. */
	while (s->next_reminder_at <= now_ms)
		s->next_reminder_at += r->remind_ms;
	atomic_fetch_add(&l->k->reminders, 1);
	return change(l, s, r, "reminded", NULL, NULL, STAFF_REMINDER, NULL, now_ms);
}

static int deadline_notice(struct life *l, struct situation *s, const struct norm_rule *r,
			   int overdue, int64_t now_ms)
{
	char *groups;
	int rc;

	if (overdue) {
		s->overdue_sent = 1;
		groups = r->n_supervisors > 0 ? join(r->supervisors, r->n_supervisors)
					      : xstrdup(s->groups);
	} else {
		s->pre_deadline_sent = 1;
		groups = join(r->notify, r->n_notify);
	}
	atomic_fetch_add(&l->k->deadline_notices, 1);
	rc = change(l, s, r, overdue ? "overdue" : "pre_deadline", NULL, NULL,
		    overdue ? STAFF_OVERDUE : STAFF_PRE_DEADLINE, groups, now_ms);
	free(groups);
	return rc;
}

static int64_t pre_deadline_at(const struct situation *s, const struct norm_rule *r)
{
	return s->deadline_at != 0 && r->remind_before_ms > 0 && !s->pre_deadline_sent
		       ? s->deadline_at - r->remind_before_ms : 0;
}

/* The first timer of s due at now_ms, run; 1 if one ran, 0 if none was due, -1. */
static int step(struct life *l, struct situation *s, const struct norm_rule *r, int64_t now_ms)
{
	int64_t pre = pre_deadline_at(s, r);

	if (s->next_escalation_at != 0 && now_ms >= s->next_escalation_at &&
	    (size_t)s->level < r->n_escalate)
		return escalate(l, s, r, now_ms) == 0 ? 1 : -1;
	if (s->next_reminder_at != 0 && now_ms >= s->next_reminder_at && r->remind_ms > 0)
		return remind(l, s, r, now_ms) == 0 ? 1 : -1;
	if (pre != 0 && now_ms >= pre)
		return deadline_notice(l, s, r, 0, now_ms) == 0 ? 1 : -1;
	if (s->deadline_at != 0 && !s->overdue_sent && now_ms >= s->deadline_at)
		return deadline_notice(l, s, r, 1, now_ms) == 0 ? 1 : -1;
	return 0;
}

int life_tick(struct life *l, int64_t now_ms)
{
	for (size_t i = 0; i < l->n;) {
		struct situation *s = &l->open[i];
		const struct norm_rule *r = rule_of(l, s->rule_id);
		int rc;

		if (r == NULL) {
			if (close_situation(l, s, NULL, "the rule left the rule set", now_ms) != 0)
				return -1;
			continue; /* the last situation moved into slot i */
		}
		while ((rc = step(l, s, r, now_ms)) == 1)
			;
		if (rc < 0)
			return -1;
		i++;
	}
	return 0;
}

static int64_t earliest(int64_t a, int64_t b)
{
	return b != 0 && b < a ? b : a;
}

int64_t life_next_due(const struct life *l)
{
	int64_t due = INT64_MAX;

	for (size_t i = 0; i < l->n; i++) {
		const struct situation *s = &l->open[i];
		const struct norm_rule *r = rule_of(l, s->rule_id);
		if (r == NULL)
			return 0;
		due = earliest(due, s->next_escalation_at);
		due = earliest(due, s->next_reminder_at);
		due = earliest(due, pre_deadline_at(s, r));
		if (!s->overdue_sent)
			due = earliest(due, s->deadline_at);
	}
	return due;
}

/* ---- restore ---- */

static int restore_seen(void *ctx, const char *standard, const char *device, int64_t ms)
{
	int rc = engine_restore_seen(ctx, standard, device, ms);

	/* EINVAL: a standard no rule watches (or no longer known); nothing to restore. */
	return rc == ENGINE_ENOMEM ? -1 : 0;
}

/* Queues what a crash may have kept from going out, and the retained state again. */
static void republish(struct life *l, struct situation *s, int64_t now_ms)
{
	const struct norm_rule *r = rule_of(l, s->rule_id);

	publish(l, s, r, s->unpublished ? STAFF_CHANGE : STAFF_NONE, NULL, now_ms);
}

/* A change's messages are sent within a tick or refused; after this long they were. */
#define RESEND_AFTER_S 30

int life_resend(struct life *l, int64_t now_ms)
{
	struct situation *rows = NULL;
	size_t n = 0;
	char err[512];

	if (sitstore_load_unsent(l->store, RESEND_AFTER_S, &rows, &n, err, sizeof(err)) != 0) {
		log_warnx("event=db_failed change=resend error=\"%s\"", err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		log_info("event=resend situation=%s version=%d", rows[i].id, rows[i].version);
		republish(l, &rows[i], now_ms);
		sit_clear(&rows[i]);
	}
	free(rows);
	return 0;
}

static void mark_sent(void *ctx, const char *id, int version)
{
	struct life *l = ctx;
	char err[512];

	/* Not fatal: the row stays marked, and the next start only sends it again. */
	if (sitstore_published(l->store, id, version, err, sizeof(err)) != 0)
		log_warnx("event=db_failed situation=%s change=published error=\"%s\"", id, err);
}

void life_mark_sent(struct life *l)
{
	staff_drain_sent(l->staff, mark_sent, l);
}

struct pending_restore {
	struct life *l;
	struct engine *e;
	struct std_parser *parser;
	size_t n;
	char err[512];
};

/* The values the raise will carry: those of the record that started the count. A record
 * the rule set can no longer read only costs the raise its values. */
static void restore_values(struct pending_restore *x, const struct sitstore_pending *p)
{
	struct std_record r;
	char err[256];

	if (p->record_json == NULL)
		return;
	if (std_record_parse(x->parser, x->l->schema, p->record_json, strlen(p->record_json), &r,
			     err, sizeof(err)) != STD_OK) {
		log_info("event=pending_values_dropped rule=%s device=%s reason=\"%s\"", p->rule,
			 p->device, err);
		return;
	}
	if (engine_restore_values(x->e, &r) == ENGINE_ENOMEM)
		fatalx("out of memory");
}

static int restore_one_pending(void *ctx, const struct sitstore_pending *p)
{
	struct pending_restore *x = ctx;
	int rc = engine_restore_pending(x->e, p->rule, p->device, p->since_ms);

	if (rc == ENGINE_ENOMEM)
		fatalx("out of memory");
	if (rc == ENGINE_OK) {
		restore_values(x, p);
		x->n++;
		return 0;
	}
	/* The rule left the set, lost its for: or no longer applies to the device. */
	log_info("event=pending_dropped rule=%s device=%s reason=\"not a for: of this rule set\"",
		 p->rule, p->device);
	return sitstore_pending_delete(x->l->store, p->rule, p->device, x->err, sizeof(x->err));
}

/* After the situations (a pending row of an active one changes nothing). */
static int restore_pending(struct life *l, struct engine *e)
{
	struct pending_restore x = {.l = l, .e = e, .parser = std_parser_create()};
	int rc;

	if (x.parser == NULL)
		fatalx("out of memory");
	rc = sitstore_each_pending(l->store, restore_one_pending, &x, x.err, sizeof(x.err));
	std_parser_free(x.parser);
	if (rc != 0) {
		log_warnx("event=restore_failed error=\"%s\"", x.err);
		return -1;
	}
	log_info("event=restored_pending count=%zu", x.n);
	return 0;
}

int life_restore(struct life *l, struct engine *e, int64_t now_ms)
{
	struct situation *rows = NULL;
	size_t n = 0;
	char err[512];
	int rc = 0;

	if (sitstore_load(l->store, &rows, &n, err, sizeof(err)) != 0 ||
	    sitstore_each_seen(l->store, restore_seen, e, err, sizeof(err)) != 0) {
		log_warnx("event=restore_failed error=\"%s\"", err);
		rc = -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct situation *s = &rows[i];
		if (rc == 0)
			republish(l, s, now_ms);
		if (s->state != SIT_CLOSED) {
			/* EINVAL: its rule left the set; life_tick closes it. */
			if (engine_restore_active(e, s->rule_id, s->device) == ENGINE_ENOMEM)
				fatalx("out of memory");
			add_open(l, s);
		}
		sit_clear(s);
	}
	free(rows);
	if (rc == 0)
		rc = restore_pending(l, e);
	log_info("event=restored open=%zu", l->n);
	return rc;
}

struct pending_sync {
	struct life *l;
	const struct engine *e;
	char err[512];
};

static int sync_one(void *ctx, const struct sitstore_pending *p)
{
	struct pending_sync *x = ctx;

	if (engine_is_pending(x->e, p->rule, p->device))
		return 0;
	log_info("event=pending_dropped rule=%s device=%s reason=\"reloaded rule set\"", p->rule,
		 p->device);
	return sitstore_pending_delete(x->l->store, p->rule, p->device, x->err, sizeof(x->err));
}

int life_sync_pending(struct life *l, const struct engine *e)
{
	struct pending_sync x = {.l = l, .e = e};

	/* Adoption only drops pending timers, never adds or moves one: deleting the rows the
	 * new engine does not hold is the whole sync. */
	if (sitstore_each_pending(l->store, sync_one, &x, x.err, sizeof(x.err)) != 0) {
		log_warnx("event=db_failed change=pending_sync error=\"%s\"", x.err);
		return -1;
	}
	return 0;
}
