/*
 * Loading rules files and groups.yaml. Here: the structure, references (standard, groups),
 * durations and headline placeholders. The when/clear expressions are parsed and
 * type-checked by the rule expression module that citylink-alerts uses.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/expr.h"
#include "normalizer/loaders.h"

static const char *const rule_keys[] = {
	"id", "standard", "when", "for", "clear", "silent", "severity", "notify",
	"escalate", "remind", "deadline", "remind_before", "supervisor", "reraise_after",
	"devices", "headline", "description", "instruction", NULL};
static const char *const severity_names[] = {"extreme", "severe", "moderate", "minor", NULL};
/* Placeholders a headline may use besides the standard's fields. */
static const char *const headline_words[] = {"device", "standard", "source", "time", "rule",
					     "severity", "location", NULL};

static void oom(struct yctx *c)
{
	c->d->oom = 1;
	c->errors++;
}

static int check_groups(struct yctx *c, const struct ynode *n, char **names, size_t count,
			const struct load_refs *refs)
{
	int rc = 0;
	for (size_t i = 0; i < count; i++) {
		size_t j = 0;
		while (j < refs->n_groups && strcmp(refs->groups[j], names[i]) != 0)
			j++;
		if (j == refs->n_groups) {
			yerr(c, n->kind == YNODE_SEQ ? n->kids[i] : n,
			     "unknown group \"%s\" (groups.yaml lists the groups)", names[i]);
			rc = -1;
		}
	}
	return rc;
}

static int load_groups_ref(struct yctx *c, const struct ynode *n, const struct load_refs *refs,
			   char ***out, size_t *count)
{
	if (ystring_list(c, n, "group", out, count) < 0)
		return -1;
	return check_groups(c, n, *out, *count, refs);
}

static int load_escalate(struct yctx *c, const struct ynode *n, const struct load_refs *refs,
			 struct norm_rule *r)
{
	static const char *const keys[] = {"after", "notify", NULL};
	if (n->kind != YNODE_SEQ || n->n == 0) {
		yerr(c, n, "escalate must be a list of {after: DURATION, notify: [GROUP...]}");
		return -1;
	}
	r->escalate = calloc(n->n, sizeof(*r->escalate));
	if (r->escalate == NULL) {
		oom(c);
		return -1;
	}
	r->n_escalate = n->n;
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *step = n->kids[i], *v;
		struct norm_escalation *e = &r->escalate[i];
		if (ymap_check(c, step, "an escalation step", keys) < 0 && step->kind != YNODE_MAP)
			continue;
		if ((v = yrequire(c, step, "after", "an escalation step")) != NULL)
			yduration(c, v, "after", &e->after_ms);
		if ((v = yrequire(c, step, "notify", "an escalation step")) != NULL)
			load_groups_ref(c, v, refs, &e->notify, &e->n_notify);
		if (i > 0 && e->after_ms <= r->escalate[i - 1].after_ms && e->after_ms > 0)
			yerr(c, step, "escalation steps must come later and later (after %s)",
			     "the previous step");
	}
	return 0;
}

/* "3 intervals" of the standard, or a duration. */
static int load_silent(struct yctx *c, const struct ynode *n, struct norm_rule *r)
{
	long count;
	char unit[16];
	int used = 0;

	if (yscalar(c, n, "silent") < 0)
		return -1;
	if (sscanf(n->text, "%ld %15s%n", &count, unit, &used) == 2 &&
	    (size_t)used == n->len && (strcmp(unit, "intervals") == 0 || strcmp(unit, "interval") == 0)) {
		if (count < 1 || count > 10000) {
			yerr(c, n, "silent needs 1 to 10000 intervals, not %ld", count);
			return -1;
		}
		r->silent_intervals = (int)count;
		if (r->standard != NULL)
			r->silent_ms = count * r->standard->interval_ms;
		return 0;
	}
	return yduration(c, n, "silent", &r->silent_ms);
}

/* "10m" or "every 10m until acked". */
static int load_remind(struct yctx *c, const struct ynode *n, struct norm_rule *r)
{
	char every[32];
	int used = 0;

	if (yscalar(c, n, "remind") < 0)
		return -1;
	if (sscanf(n->text, "every %31s until acked%n", every, &used) == 1 && (size_t)used == n->len) {
		struct ynode tmp = *n;
		tmp.text = every;
		tmp.len = strlen(every);
		return yduration(c, &tmp, "remind", &r->remind_ms);
	}
	return yduration(c, n, "remind", &r->remind_ms);
}

static int known_placeholder(const struct norm_standard *st, const char *name, size_t len)
{
	for (int i = 0; headline_words[i] != NULL; i++)
		if (strlen(headline_words[i]) == len && memcmp(headline_words[i], name, len) == 0)
			return 1;
	for (size_t i = 0; st != NULL && i < st->n_fields; i++)
		if (strlen(st->fields[i].name) == len && memcmp(st->fields[i].name, name, len) == 0)
			return 1;
	return st == NULL; /* unknown standard: already reported */
}

static void check_placeholders(struct yctx *c, const struct ynode *n, const struct norm_rule *r)
{
	for (const char *p = strchr(n->text, '{'); p != NULL; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (end == NULL) {
			yerr(c, n, "headline has a '{' without its '}'");
			return;
		}
		if (!known_placeholder(r->standard, p + 1, (size_t)(end - p - 1)))
			yerr(c, n, "headline placeholder {%.*s} is not a field of %s nor one of "
			     "device, standard, source, time, rule, severity, location",
			     (int)(end - p - 1), p + 1, r->standard->id);
	}
}

static int load_headline(struct yctx *c, const struct ynode *n, struct norm_rule *r)
{
	size_t count = n->kind == YNODE_MAP ? n->n : 1;

	if (n->kind == YNODE_SEQ) {
		yerr(c, n, "headline is a text or a mapping of language to text ({en: ..., ko: ...})");
		return -1;
	}
	r->headline = calloc(count, sizeof(char *));
	r->headline_lang = calloc(count, sizeof(char *));
	if (r->headline == NULL || r->headline_lang == NULL) {
		oom(c);
		return -1;
	}
	r->n_headline = count;
	for (size_t i = 0; i < count; i++) {
		const struct ynode *text = n->kind == YNODE_MAP ? ynode_value(n, i) : n;
		const char *lang = n->kind == YNODE_MAP ? ynode_key(n, i)->text : "";
		if ((r->headline_lang[i] = strdup(lang)) == NULL) {
			oom(c);
			return -1;
		}
		if (ystring(c, text, "headline", &r->headline[i]) == 0)
			check_placeholders(c, text, r);
	}
	return 0;
}

/* Parses a condition; an error points at the character, inside the YAML line. */
static void load_condition(struct yctx *c, const struct ynode *n, const struct norm_rule *r,
			   struct expr **out)
{
	char err[256];
	size_t at;
	if (r->standard == NULL)
		return; /* already reported */
	int rc = expr_parse(n->text, r->standard, out, err, sizeof(err), &at);
	if (rc == -2) {
		c->d->oom = 1;
		c->errors++;
	} else if (rc < 0) {
		/* A quoted scalar starts one column before its text; a folded one spans lines,
		 * where the offset is only a hint. */
		struct ynode pos = *n;
		pos.col += (int)at + !n->plain;
		yerr(c, &pos, "%s", err);
	}
}

static void load_trigger(struct yctx *c, const struct ynode *root, struct norm_rule *r)
{
	const struct ynode *when = ynode_get(root, "when"), *silent = ynode_get(root, "silent"), *v;

	if ((when == NULL) == (silent == NULL)) {
		yerr(c, root, "a rule needs exactly one of \"when\" (a condition) or \"silent\"");
		return;
	}
	if (silent != NULL) {
		load_silent(c, silent, r);
		if ((v = ynode_get(root, "for")) != NULL || (v = ynode_get(root, "clear")) != NULL)
			yerr(c, v, "\"for\" and \"clear\" apply to \"when\" rules, not \"silent\"");
		return;
	}
	if (ystring(c, when, "when", &r->when) == 0)
		load_condition(c, when, r, &r->when_expr);
	if ((v = ynode_get(root, "for")) != NULL)
		yduration(c, v, "for", &r->for_ms);
	if ((v = ynode_get(root, "clear")) != NULL && ystring(c, v, "clear", &r->clear) == 0)
		load_condition(c, v, r, &r->clear_expr);
}

static void load_timers(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
			struct norm_rule *r)
{
	const struct ynode *v;
	if ((v = ynode_get(root, "escalate")) != NULL)
		load_escalate(c, v, refs, r);
	if ((v = ynode_get(root, "remind")) != NULL)
		load_remind(c, v, r);
	if ((v = ynode_get(root, "deadline")) != NULL)
		yduration(c, v, "deadline", &r->deadline_ms);
	if ((v = ynode_get(root, "remind_before")) != NULL) {
		yduration(c, v, "remind_before", &r->remind_before_ms);
		if (r->deadline_ms == 0)
			yerr(c, v, "remind_before needs a deadline");
		else if (r->remind_before_ms >= r->deadline_ms)
			yerr(c, v, "remind_before must be shorter than the deadline");
	}
	if ((v = ynode_get(root, "supervisor")) != NULL)
		load_groups_ref(c, v, refs, &r->supervisors, &r->n_supervisors);
	if ((v = ynode_get(root, "reraise_after")) != NULL)
		yduration(c, v, "reraise_after", &r->reraise_ms);
}

static int load_rule(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
		     struct norm_rule *r)
{
	const struct ynode *v;
	int sev, errors = c->errors;

	r->line = root->line;
	if (ymap_check(c, root, "a rule", rule_keys) < 0 && root->kind != YNODE_MAP)
		return -1;
	if ((v = yrequire(c, root, "id", "a rule")) != NULL)
		yident(c, v, "rule id", &r->id);
	if ((v = yrequire(c, root, "standard", "a rule")) != NULL && yscalar(c, v, "standard") == 0 &&
	    (r->standard = refs_standard(refs, v->text)) == NULL)
		yerr(c, v, "unknown standard \"%s\"", v->text);
	load_trigger(c, root, r);
	if ((v = yrequire(c, root, "severity", "a rule")) != NULL &&
	    ychoice(c, v, "severity", severity_names, &sev) == 0)
		r->severity = (enum norm_severity)sev;
	if ((v = yrequire(c, root, "notify", "a rule")) != NULL)
		load_groups_ref(c, v, refs, &r->notify, &r->n_notify);
	load_timers(c, root, refs, r);
	if ((v = ynode_get(root, "devices")) != NULL)
		ystring_list(c, v, "device", &r->devices, &r->n_devices);
	if ((v = ynode_get(root, "headline")) != NULL)
		load_headline(c, v, r);
	if ((v = ynode_get(root, "description")) != NULL)
		ystring(c, v, "description", &r->description);
	if ((v = ynode_get(root, "instruction")) != NULL)
		ystring(c, v, "instruction", &r->instruction);
	return c->errors == errors ? 0 : -1;
}

int rules_load(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
	       struct norm_rule **rules, size_t *n)
{
	static const char *const keys[] = {"rules", NULL};
	const struct ynode *list;

	if (ymap_check(c, root, "a rules file", keys) < 0 && root->kind != YNODE_MAP)
		return -1;
	if ((list = yrequire(c, root, "rules", "a rules file")) == NULL)
		return -1;
	if (list->kind != YNODE_SEQ) {
		yerr(c, list, "rules must be a list of rules");
		return -1;
	}
	struct norm_rule *grown = realloc(*rules, (*n + list->n + 1) * sizeof(*grown));
	if (grown == NULL) {
		oom(c);
		return -1;
	}
	*rules = grown;
	for (size_t i = 0; i < list->n; i++) {
		struct norm_rule *r = &(*rules)[(*n)++];
		memset(r, 0, sizeof(*r));
		if ((r->file = strdup(c->file)) == NULL)
			oom(c);
		load_rule(c, list->kids[i], refs, r);
	}
	return 0;
}

void rule_clear(struct norm_rule *r)
{
	free(r->id);
	free(r->when);
	free(r->clear);
	expr_free(r->when_expr);
	expr_free(r->clear_expr);
	strlist_free(r->notify, r->n_notify);
	for (size_t i = 0; i < r->n_escalate; i++)
		strlist_free(r->escalate[i].notify, r->escalate[i].n_notify);
	free(r->escalate);
	strlist_free(r->supervisors, r->n_supervisors);
	strlist_free(r->devices, r->n_devices);
	strlist_free(r->headline_lang, r->n_headline);
	strlist_free(r->headline, r->n_headline);
	free(r->description);
	free(r->instruction);
	free(r->file);
	memset(r, 0, sizeof(*r));
}

int groups_load(struct yctx *c, const struct ynode *root, char ***groups, size_t *n)
{
	static const char *const keys[] = {"groups", NULL};
	const struct ynode *list;

	if (ymap_check(c, root, "groups.yaml", keys) < 0 && root->kind != YNODE_MAP)
		return -1;
	if ((list = yrequire(c, root, "groups", "groups.yaml")) == NULL)
		return -1;
	if (list->kind != YNODE_SEQ) {
		yerr(c, list, "groups must be a list of group names");
		return -1;
	}
	*groups = calloc(list->n + 1, sizeof(char *));
	if (*groups == NULL) {
		oom(c);
		return -1;
	}
	for (size_t i = 0; i < list->n; i++) {
		char *name;
		if (yident(c, list->kids[i], "group name", &name) < 0)
			continue;
		for (size_t j = 0; j < *n; j++) {
			if (strcmp((*groups)[j], name) == 0) {
				yerr(c, list->kids[i], "group \"%s\" is listed twice", name);
				break;
			}
		}
		(*groups)[(*n)++] = name;
	}
	return 0;
}

const char *norm_severity_name(enum norm_severity s)
{
	return s <= NORM_SEV_MINOR ? severity_names[s] : "?";
}
