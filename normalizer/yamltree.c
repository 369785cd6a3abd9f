/* YAML event stream -> ynode tree with positions (see yamltree.h). */
#include "normalizer/yamltree.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct builder {
	const char *file;
	struct norm_diags *d;
	struct ynode *stack[YAML_MAX_DEPTH + 1];
	int depth;
	size_t nodes;
	struct ynode *root;
	int documents;
	int failed;
};

const struct ynode *ynode_get(const struct ynode *m, const char *key)
{
	if (m == NULL || m->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kids[2 * i]->text, key) == 0)
			return m->kids[2 * i + 1];
	return NULL;
}

const struct ynode *ynode_key(const struct ynode *m, size_t i)
{
	return m->kids[2 * i];
}

const struct ynode *ynode_value(const struct ynode *m, size_t i)
{
	return m->kids[2 * i + 1];
}

/* Number of child slots a node has filled (a map counts keys and values). */
static size_t slots(const struct ynode *n)
{
	return n->kind == YNODE_MAP ? 2 * n->n + (size_t)n->key_pending : n->n;
}

void ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	size_t count = slots(n);
	for (size_t i = 0; i < count; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static void fail_at(struct builder *b, const yaml_mark_t *m, const char *msg)
{
	diags_add(b->d, b->file, (int)m->line + 1, (int)m->column + 1, "%s", msg);
	b->failed = 1;
}

static int check_duplicate_key(struct builder *b, const struct ynode *map, const struct ynode *key)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->kids[2 * i];
		if (strcmp(k->text, key->text) == 0) {
			diags_add(b->d, b->file, key->line, key->col,
				  "duplicate key \"%s\" (first at line %d)", key->text, k->line);
			b->failed = 1;
			return -1;
		}
	}
	return 0;
}

/* Attaches child to the innermost open collection, or makes it the root. */
static int attach(struct builder *b, struct ynode *child, const yaml_mark_t *m)
{
	if (b->depth == 0) {
		b->root = child;
		return 0;
	}
	struct ynode *parent = b->stack[b->depth - 1];
	int is_key = parent->kind == YNODE_MAP && !parent->key_pending;
	if (is_key && child->kind != YNODE_SCALAR) {
		fail_at(b, m, "mapping keys must be plain scalars");
		ynode_free(child);
		return -1;
	}
	if (is_key && check_duplicate_key(b, parent, child) < 0) {
		ynode_free(child);
		return -1;
	}
	size_t used = slots(parent);
	struct ynode **grown = realloc(parent->kids, (used + 1) * sizeof(*grown));
	if (grown == NULL) {
		ynode_free(child);
		b->d->oom = 1;
		b->failed = 1;
		return -1;
	}
	parent->kids = grown;
	parent->kids[used] = child;
	if (parent->kind == YNODE_SEQ) {
		parent->n++;
	} else if (is_key) {
		parent->key_pending = 1;
	} else {
		parent->key_pending = 0;
		parent->n++;
	}
	return 0;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m)
{
	if (++b->nodes > YAML_MAX_NODES) {
		fail_at(b, m, "too many YAML nodes in one file");
		return NULL;
	}
	struct ynode *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		b->d->oom = 1;
		b->failed = 1;
		return NULL;
	}
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL) {
		fail_at(b, m, "a NUL character is not allowed in text");
		return -1;
	}
	struct ynode *n = new_node(b, YNODE_SCALAR, m);
	if (n == NULL)
		return -1;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->len = ev->data.scalar.length;
	n->text = malloc(n->len + 1);
	if (n->text == NULL) {
		ynode_free(n);
		b->d->oom = 1;
		b->failed = 1;
		return -1;
	}
	memcpy(n->text, ev->data.scalar.value, n->len);
	n->text[n->len] = '\0';
	return attach(b, n, m);
}

static int on_open(struct builder *b, const yaml_event_t *ev, enum ynode_kind kind)
{
	const yaml_mark_t *m = &ev->start_mark;
	if (b->depth >= YAML_MAX_DEPTH) {
		fail_at(b, m, "nesting deeper than 32 levels");
		return -1;
	}
	struct ynode *n = new_node(b, kind, m);
	if (n == NULL)
		return -1;
	if (attach(b, n, m) < 0)
		return -1;
	b->stack[b->depth++] = n;
	return 0;
}

/* Refuses what makes a file mean something other than it reads: anchors, aliases, tags. */
static int refuse_indirection(struct builder *b, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		fail_at(b, &ev->start_mark, "YAML aliases (*name) are not allowed: write the value out");
		return -1;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		return 0;
	}
	if (anchor != NULL) {
		fail_at(b, &ev->start_mark, "YAML anchors (&name) are not allowed");
		return -1;
	}
	if (tag != NULL) {
		fail_at(b, &ev->start_mark, "YAML tags (!tag) are not allowed");
		return -1;
	}
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	if (refuse_indirection(b, ev) < 0)
		return -1;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1) {
			fail_at(b, &ev->start_mark, "only one YAML document per file");
			return -1;
		}
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(b, ev, YNODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_open(b, ev, YNODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	default:
		return 0;
	}
}

static void syntax_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	if (p->context != NULL)
		diags_add(b->d, b->file, (int)p->problem_mark.line + 1,
			  (int)p->problem_mark.column + 1, "YAML syntax error: %s %s", problem,
			  p->context);
	else
		diags_add(b->d, b->file, (int)p->problem_mark.line + 1,
			  (int)p->problem_mark.column + 1, "YAML syntax error: %s", problem);
	b->failed = 1;
}

int ytree_parse(const char *file, const char *buf, size_t len, struct ynode **out,
		struct norm_diags *d)
{
	struct builder b = {.file = file, .d = d};
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0;

	*out = NULL;
	if (len > YAML_MAX_BYTES) {
		diags_add(d, file, 0, 0, "file is larger than %d bytes", YAML_MAX_BYTES);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		d->oom = 1;
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&b, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (b.failed) {
		/* A half-built tree hangs off the root (or only the stack, before attach). */
		ynode_free(b.root);
		return -1;
	}
	*out = b.root;
	return 0;
}
