/*
 * norm_schema_load: parse every file, load groups, standards, sources and rules in the
 * order they refer to each other, check the set as a whole (unique ids, no two sources
 * claiming one topic), and hand back the set only if nothing at all was wrong.
 */
#include "normalizer/schema.h"

#include <stdlib.h>
#include <string.h>

#include "normalizer/loaders.h"
#include "normalizer/topic_index.h"
#include "normalizer/yamltree.h"

struct norm_schema {
	struct norm_standard *standards;
	size_t n_standards;
	struct norm_source *sources;
	size_t n_sources;
	struct norm_rule *rules;
	size_t n_rules;
	char **groups;
	size_t n_groups;
	struct topic_index *topics;
};

struct parsed {
	const struct norm_file *file;
	struct ynode *root;
};

const struct norm_standard *refs_standard(const struct load_refs *refs, const char *id)
{
	for (size_t i = 0; i < refs->n_standards; i++)
		if (refs->standards[i].id != NULL && strcmp(refs->standards[i].id, id) == 0)
			return &refs->standards[i];
	return NULL;
}

int norm_standard_field(const struct norm_standard *st, const char *name)
{
	for (size_t i = 0; i < st->n_fields; i++)
		if (strcmp(st->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

void norm_schema_free(struct norm_schema *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_rules; i++)
		rule_clear(&s->rules[i]);
	free(s->rules);
	for (size_t i = 0; i < s->n_sources; i++)
		source_clear(&s->sources[i]);
	free(s->sources);
	for (size_t i = 0; i < s->n_standards; i++)
		standard_clear(&s->standards[i]);
	free(s->standards);
	strlist_free(s->groups, s->n_groups);
	topic_index_free(s->topics);
	free(s);
}

static int by_standard_id(const void *a, const void *b)
{
	return strcmp(((const struct norm_standard *)a)->id, ((const struct norm_standard *)b)->id);
}

static int by_source_id(const void *a, const void *b)
{
	return strcmp(((const struct norm_source *)a)->id, ((const struct norm_source *)b)->id);
}

static int parse_all(const struct norm_file *files, size_t n, struct parsed *out,
		     struct norm_diags *d)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		out[i].file = &files[i];
		if (ytree_parse(files[i].path, files[i].data, files[i].len, &out[i].root, d) < 0)
			rc = -1;
		else if (out[i].root == NULL) {
			diags_add(d, files[i].path, 0, 0, "file is empty");
			rc = -1;
		}
	}
	return rc;
}

static void load_groups(struct norm_schema *s, struct parsed *p, size_t n, struct norm_diags *d)
{
	const char *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i].file->kind != NORM_FILE_GROUPS || p[i].root == NULL)
			continue;
		struct yctx c = {.file = p[i].file->path, .d = d};
		if (first != NULL) {
			diags_add(d, c.file, 0, 0, "a second groups file (the first is %s)", first);
			continue;
		}
		first = c.file;
		groups_load(&c, p[i].root, &s->groups, &s->n_groups);
	}
}

/* Loads every file of one kind into an array of model structs (elem bytes each). */
static int load_standards(struct norm_schema *s, struct parsed *p, size_t n, struct norm_diags *d)
{
	s->standards = calloc(n ? n : 1, sizeof(*s->standards));
	if (s->standards == NULL)
		return -2;
	for (size_t i = 0; i < n; i++) {
		if (p[i].file->kind != NORM_FILE_STANDARD || p[i].root == NULL)
			continue;
		struct yctx c = {.file = p[i].file->path, .d = d};
		struct norm_standard *st = &s->standards[s->n_standards++];
		st->file = strdup(c.file);
		if (standard_load(&c, p[i].root, st) < 0 || st->file == NULL) {
			standard_clear(st);
			s->n_standards--;
			continue;
		}
		for (size_t j = 0; j + 1 < s->n_standards; j++) {
			if (strcmp(s->standards[j].id, st->id) == 0) {
				diags_add(d, c.file, p[i].root->line, p[i].root->col,
					  "standard \"%s\" is already defined in %s", st->id,
					  s->standards[j].file);
				standard_clear(st);
				s->n_standards--;
				break;
			}
		}
	}
	qsort(s->standards, s->n_standards, sizeof(*s->standards), by_standard_id);
	return 0;
}

static int load_sources(struct norm_schema *s, struct parsed *p, size_t n, struct norm_diags *d)
{
	struct load_refs refs = {s->standards, s->n_standards, s->groups, s->n_groups};

	s->sources = calloc(n ? n : 1, sizeof(*s->sources));
	if (s->sources == NULL)
		return -2;
	for (size_t i = 0; i < n; i++) {
		if (p[i].file->kind != NORM_FILE_SOURCE || p[i].root == NULL)
			continue;
		struct yctx c = {.file = p[i].file->path, .d = d};
		struct norm_source *src = &s->sources[s->n_sources++];
		src->file = strdup(c.file);
		if (source_load(&c, p[i].root, &refs, src) < 0 || src->file == NULL) {
			source_clear(src);
			s->n_sources--;
		}
	}
	qsort(s->sources, s->n_sources, sizeof(*s->sources), by_source_id);
	return 0;
}

/* Ids are unique and no topic can belong to two sources: a message must have one owner. */
static void check_sources(const struct norm_schema *s, struct norm_diags *d)
{
	for (size_t i = 0; i < s->n_sources; i++) {
		const struct norm_source *a = &s->sources[i];
		for (size_t j = i + 1; j < s->n_sources; j++) {
			const struct norm_source *b = &s->sources[j];
			if (strcmp(a->id, b->id) == 0)
				diags_add(d, b->file, 0, 0, "source \"%s\" is already defined in %s",
					  b->id, a->file);
			else if (topic_filters_overlap(a->topic, b->topic))
				diags_add(d, b->file, 0, 0,
					  "topic %s of source %s overlaps topic %s of source %s (%s): "
					  "a message must belong to one source",
					  b->topic, b->id, a->topic, a->id, a->file);
		}
	}
}

static int load_rules(struct norm_schema *s, struct parsed *p, size_t n, struct norm_diags *d)
{
	struct load_refs refs = {s->standards, s->n_standards, s->groups, s->n_groups};

	for (size_t i = 0; i < n; i++) {
		if (p[i].file->kind != NORM_FILE_RULES || p[i].root == NULL)
			continue;
		struct yctx c = {.file = p[i].file->path, .d = d};
		rules_load(&c, p[i].root, &refs, &s->rules, &s->n_rules);
	}
	for (size_t i = 0; i < s->n_rules; i++)
		for (size_t j = 0; j < i; j++)
			if (s->rules[i].id && s->rules[j].id && strcmp(s->rules[i].id, s->rules[j].id) == 0)
				diags_add(d, s->rules[i].file, s->rules[i].line, 0,
					  "rule \"%s\" is already defined in %s:%d", s->rules[i].id,
					  s->rules[j].file, s->rules[j].line);
	return 0;
}

static int index_topics(struct norm_schema *s)
{
	if ((s->topics = topic_index_create()) == NULL)
		return -2;
	for (size_t i = 0; i < s->n_sources; i++)
		if (topic_index_add(s->topics, s->sources[i].topic, &s->sources[i]) == -2)
			return -2;
	return 0;
}

int norm_schema_load(const struct norm_file *files, size_t n, struct norm_schema **out,
		     struct norm_diags *d)
{
	struct norm_schema *s = calloc(1, sizeof(*s));
	struct parsed *p = calloc(n ? n : 1, sizeof(*p));
	int rc = -2;

	*out = NULL;
	if (s == NULL || p == NULL)
		goto out;
	parse_all(files, n, p, d);
	load_groups(s, p, n, d);
	if (load_standards(s, p, n, d) < 0 || load_sources(s, p, n, d) < 0)
		goto out;
	check_sources(s, d);
	if (load_rules(s, p, n, d) < 0 || index_topics(s) < 0)
		goto out;
	rc = d->n > 0 || d->dropped > 0 ? -1 : 0;
	if (d->oom)
		rc = -2;
out:
	for (size_t i = 0; p != NULL && i < n; i++)
		ynode_free(p[i].root);
	free(p);
	if (rc == 0)
		*out = s;
	else
		norm_schema_free(s);
	return rc;
}

const struct norm_standard *norm_schema_standards(const struct norm_schema *s, size_t *n)
{
	*n = s->n_standards;
	return s->standards;
}

const struct norm_source *norm_schema_sources(const struct norm_schema *s, size_t *n)
{
	*n = s->n_sources;
	return s->sources;
}

const struct norm_rule *norm_schema_rules(const struct norm_schema *s, size_t *n)
{
	*n = s->n_rules;
	return s->rules;
}

char *const *norm_schema_groups(const struct norm_schema *s, size_t *n)
{
	*n = s->n_groups;
	return s->groups;
}

const struct norm_standard *norm_schema_standard(const struct norm_schema *s, const char *id)
{
	struct load_refs refs = {s->standards, s->n_standards, NULL, 0};
	return refs_standard(&refs, id);
}

const struct norm_source *norm_schema_source(const struct norm_schema *s, const char *id)
{
	for (size_t i = 0; i < s->n_sources; i++)
		if (strcmp(s->sources[i].id, id) == 0)
			return &s->sources[i];
	return NULL;
}

const struct norm_source *norm_schema_match(const struct norm_schema *s, const char *topic,
					    size_t len)
{
	return topic_index_match(s->topics, topic, len);
}
