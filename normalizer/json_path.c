/*
 * Compiled JSON paths. Grammar (positions in messages are 1-based and count bytes):
 *
 *   path    = first ( "." key | "[" inner "]" )*
 *   first   = key | "[" inner "]"
 *   key     = one or more bytes other than . [ ] ' " (case-sensitive)
 *   inner   = -?[0-9]+ | '"' bytes '"' | "'" bytes "'"
 *
 * A quoted key holds any bytes but its own quote (there are no escapes: quote a key holding
 * '"' with "'"). Empty keys, quoted or not, are refused. Compilation is done twice over the
 * text, once to measure and check, once to fill, so a path is a single allocation: the
 * struct, its segments, then the text and the keys.
 */
#include "normalizer/json_path.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct segment {
	const char *key; /* NULL for an array index */
	int index;       /* negative counts from the end */
};

struct json_path {
	const char *text;
	size_t n;
	struct segment seg[];
};

/* The compiler's state; with path NULL it only measures. */
struct build {
	const char *text;
	char *err;
	size_t errlen;
	struct json_path *path;
	char *chars; /* where the next key goes while filling */
	size_t n;
	size_t key_bytes;
};

__attribute__((format(printf, 3, 4))) static int fail(struct build *b, const char *at,
							const char *fmt, ...)
{
	char what[96];
	va_list ap;
	int n;

	if (b->err == NULL || b->errlen == 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0)
		what[0] = '\0';
	if (at == NULL)
		n = snprintf(b->err, b->errlen, "%s", what);
	else
		n = snprintf(b->err, b->errlen, "%s at character %zu", what,
			     (size_t)(at - b->text) + 1);
	if (n < 0)
		b->err[0] = '\0';
	return -1;
}

static void add_key(struct build *b, const char *k, size_t len)
{
	if (b->path != NULL) {
		memcpy(b->chars, k, len);
		b->chars[len] = '\0';
		b->path->seg[b->n] = (struct segment){b->chars, 0};
		b->chars += len + 1;
	}
	b->key_bytes += len + 1;
	b->n++;
}

static void add_index(struct build *b, int i)
{
	if (b->path != NULL)
		b->path->seg[b->n] = (struct segment){NULL, i};
	b->n++;
}

static int key_byte(char c)
{
	return c != '\0' && c != '.' && c != '[' && c != ']' && c != '\'' && c != '"';
}

/* An unquoted key at p; returns what follows it, or NULL (reported). */
static const char *parse_key(struct build *b, const char *p)
{
	const char *start = p;

	while (key_byte(*p))
		p++;
	if (p == start) {
		if (*p == '\0' || *p == '.' || *p == '[')
			fail(b, p, "empty key");
		else
			fail(b, p, "unexpected character '%c'", *p);
		return NULL;
	}
	add_key(b, start, (size_t)(p - start));
	return p;
}

/* An index between p and close (']'); returns 0 or -1 (reported). */
static int parse_index(struct build *b, const char *p, const char *close)
{
	const char *d = p + (*p == '-');
	long v = 0;

	if (d == close)
		return fail(b, p, "invalid index");
	for (const char *q = d; q < close; q++) {
		if (*q < '0' || *q > '9')
			return fail(b, p, "invalid index");
		v = v * 10 + (*q - '0');
		if (v > INT_MAX)
			return fail(b, p, "index out of range");
	}
	add_index(b, (int)(*p == '-' ? -v : v));
	return 0;
}

/* The inside of "[...]", p just past the '['; returns what follows the ']', or NULL. */
static const char *parse_bracket(struct build *b, const char *p)
{
	const char *close;

	if (*p == '"' || *p == '\'') {
		close = strchr(p + 1, *p);
		if (close == NULL) {
			fail(b, p, "unclosed quote");
			return NULL;
		}
		if (close == p + 1) {
			fail(b, p, "empty key");
			return NULL;
		}
		if (close[1] != ']') {
			fail(b, close + 1, "expected ']'");
			return NULL;
		}
		add_key(b, p + 1, (size_t)(close - p - 1));
		return close + 2;
	}
	close = strchr(p, ']');
	if (close == NULL) {
		fail(b, p - 1, "unclosed '['");
		return NULL;
	}
	if (parse_index(b, p, close) < 0)
		return NULL;
	return close + 1;
}

static int parse(struct build *b)
{
	const char *p = b->text;

	if (*p == '\0')
		return fail(b, NULL, "empty path");
	p = *p == '[' ? parse_bracket(b, p + 1) : parse_key(b, p);
	while (p != NULL && *p != '\0') {
		if (*p == '.')
			p = parse_key(b, p + 1);
		else if (*p == '[')
			p = parse_bracket(b, p + 1);
		else
			return fail(b, p, "unexpected character '%c'", *p);
	}
	return p == NULL ? -1 : 0;
}

int json_path_compile(const char *text, struct json_path **out, char *err, size_t errlen)
{
	struct build b = {text != NULL ? text : "", err, errlen, NULL, NULL, 0, 0};
	size_t text_len = strlen(b.text), head;
	struct json_path *p;

	*out = NULL;
	if (parse(&b) < 0)
		return -1;
	head = sizeof(*p) + b.n * sizeof(p->seg[0]);
	p = malloc(head + text_len + 1 + b.key_bytes);
	if (p == NULL) {
		fail(&b, NULL, "out of memory");
		return -2;
	}
	memcpy((char *)p + head, b.text, text_len + 1);
	p->text = (char *)p + head;
	p->n = b.n;
	b = (struct build){p->text, err, errlen, p, (char *)p + head + text_len + 1, 0, 0};
	/* The text was checked above; this pass cannot fail. */
	if (parse(&b) < 0) {
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void json_path_free(struct json_path *p)
{
	free(p);
}

const char *json_path_text(const struct json_path *p)
{
	return p->text;
}

/* The member or element seg names in node, or NULL. */
static cJSON *step(const cJSON *node, const struct segment *seg)
{
	int i = seg->index;

	if (seg->key != NULL) {
		if (!cJSON_IsObject(node))
			return NULL;
		/* cJSON_GetObjectItemCaseSensitive, minus a strcmp call for every sibling whose
		 * first byte already differs: this runs for every mapped field of every record. */
		for (cJSON *c = node->child; c != NULL; c = c->next)
			if (c->string != NULL && c->string[0] == seg->key[0] &&
			    strcmp(c->string, seg->key) == 0)
				return c;
		return NULL;
	}
	if (!cJSON_IsArray(node))
		return NULL;
	if (i < 0) {
		i += cJSON_GetArraySize(node);
		if (i < 0)
			return NULL;
	}
	return cJSON_GetArrayItem(node, i);
}

const cJSON *json_path_get(const struct json_path *p, const cJSON *root)
{
	const cJSON *node = root;

	for (size_t i = 0; i < p->n && node != NULL; i++)
		node = step(node, &p->seg[i]);
	return node;
}

/* Renames item to key, with cJSON's allocator since cJSON_Delete frees the name. */
static int set_name(cJSON *item, const char *key)
{
	size_t len = strlen(key);
	char *name = cJSON_malloc(len + 1);

	if (name == NULL)
		return -1;
	memcpy(name, key, len + 1);
	if (item->string != NULL && !(item->type & cJSON_StringIsConst))
		cJSON_free(item->string);
	item->string = name;
	item->type &= ~cJSON_StringIsConst;
	return 0;
}

/*
 * Puts item where seg names it in node (an object or an array, as seg needs): in place of
 * old if there is one, else added, padding an array with null up to the index. Takes
 * ownership of item; returns 0 or -2 (out of memory).
 */
static int attach(cJSON *node, const struct segment *seg, cJSON *old, cJSON *item)
{
	if (old != NULL) {
		/* cJSON_ReplaceItemInObject would ignore a failure to copy the name. */
		if ((seg->key != NULL && set_name(item, seg->key) < 0) ||
		    !cJSON_ReplaceItemViaPointer(node, old, item))
			goto fail;
		return 0;
	}
	if (seg->key != NULL) {
		if (!cJSON_AddItemToObject(node, seg->key, item))
			goto fail;
		return 0;
	}
	while (cJSON_GetArraySize(node) < seg->index) {
		cJSON *pad = cJSON_CreateNull();
		if (pad == NULL || !cJSON_AddItemToArray(node, pad)) {
			cJSON_Delete(pad);
			goto fail;
		}
	}
	if (!cJSON_AddItemToArray(node, item))
		goto fail;
	return 0;
fail:
	cJSON_Delete(item);
	return -2;
}

/* 1 when node can hold seg (an object for a key, an array for an index). */
static int holds(const cJSON *node, const struct segment *seg)
{
	return seg->key != NULL ? cJSON_IsObject(node) : cJSON_IsArray(node);
}

int json_path_set(const struct json_path *p, cJSON *root, cJSON *value)
{
	cJSON *node = root;

	/* A failed cJSON_Create* upstream: report it as what it was. */
	if (value == NULL)
		return -2;
	if (root == NULL || !holds(root, &p->seg[0]))
		goto refuse;
	/* Refuse before changing anything: the tree stays as it was on -1. */
	for (size_t i = 0; i < p->n; i++)
		if (p->seg[i].key == NULL && p->seg[i].index < 0)
			goto refuse;
	for (size_t i = 0; i + 1 < p->n; i++) {
		const struct segment *next = &p->seg[i + 1];
		cJSON *old = step(node, &p->seg[i]);
		if (old != NULL && holds(old, next)) {
			node = old;
			continue;
		}
		/* A null on the way (array padding, say) counts as missing. */
		if (old != NULL && !cJSON_IsNull(old))
			goto refuse;
		cJSON *made = next->key != NULL ? cJSON_CreateObject() : cJSON_CreateArray();
		if (made == NULL || attach(node, &p->seg[i], old, made) < 0) {
			cJSON_Delete(value);
			return -2;
		}
		node = made;
	}
	return attach(node, &p->seg[p->n - 1], step(node, &p->seg[p->n - 1]), value);
refuse:
	cJSON_Delete(value);
	return -1;
}
