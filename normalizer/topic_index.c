/* Topic filter trie (see topic_index.h). */
#include "normalizer/topic_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct child {
	char *level;
	size_t len;
	struct tnode *node;
};

struct tnode {
	struct child *kids;   /* literal levels, sorted by strcmp */
	size_t n_kids;
	struct tnode *plus;   /* "+" */
	const void *hash;     /* value of "<here>/#" */
	const void *value;    /* value of a filter ending here */
	int has_hash, has_value;
};

struct topic_index {
	struct tnode root;
};

struct topic_index *topic_index_create(void)
{
	return calloc(1, sizeof(struct topic_index));
}

static void node_free_kids(struct tnode *n)
{
	for (size_t i = 0; i < n->n_kids; i++) {
		node_free_kids(n->kids[i].node);
		free(n->kids[i].node);
		free(n->kids[i].level);
	}
	free(n->kids);
	if (n->plus != NULL) {
		node_free_kids(n->plus);
		free(n->plus);
	}
}

void topic_index_free(struct topic_index *t)
{
	if (t == NULL)
		return;
	node_free_kids(&t->root);
	free(t);
}

/* Binary search for a literal level; returns its slot or where it would go. */
static size_t find_kid(const struct tnode *n, const char *level, size_t len, int *found)
{
	size_t lo = 0, hi = n->n_kids;
	*found = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *k = n->kids[mid].level;
		size_t klen = n->kids[mid].len;
		/* memcmp with both lengths: the level being looked up may hold any byte. */
		int c = memcmp(k, level, klen < len ? klen : len);
		if (c == 0)
			c = klen < len ? -1 : klen > len;
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct tnode *literal_child(struct tnode *n, const char *level, size_t len)
{
	int found;
	size_t at = find_kid(n, level, len, &found);
	if (found)
		return n->kids[at].node;

	struct child *grown = realloc(n->kids, (n->n_kids + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	n->kids = grown;
	struct tnode *node = calloc(1, sizeof(*node));
	char *copy = strndup(level, len);
	if (node == NULL || copy == NULL) {
		free(node);
		free(copy);
		return NULL;
	}
	memmove(&n->kids[at + 1], &n->kids[at], (n->n_kids - at) * sizeof(*n->kids));
	n->kids[at].level = copy;
	n->kids[at].len = len;
	n->kids[at].node = node;
	n->n_kids++;
	return node;
}

int topic_index_add(struct topic_index *t, const char *filter, const void *value)
{
	struct tnode *n = &t->root;
	const char *p = filter;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 1 && p[0] == '#') {
			if (n->has_hash)
				return -1;
			n->hash = value;
			n->has_hash = 1;
			return 0;
		}
		if (len == 1 && p[0] == '+') {
			if (n->plus == NULL && (n->plus = calloc(1, sizeof(*n->plus))) == NULL)
				return -2;
			n = n->plus;
		} else if ((n = literal_child(n, p, len)) == NULL) {
			return -2;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	if (n->has_value)
		return -1;
	n->value = value;
	n->has_value = 1;
	return 0;
}

static const void *match_from(const struct tnode *n, const char *p, const char *end)
{
	/* "a/#" also matches "a" itself (MQTT 3.1.1 §4.7.1.2). */
	if (n->has_hash)
		return n->hash;
	if (p == NULL)
		return n->has_value ? n->value : NULL;

	const char *slash = memchr(p, '/', (size_t)(end - p));
	size_t len = slash ? (size_t)(slash - p) : (size_t)(end - p);
	const char *next = slash ? slash + 1 : NULL;
	int found;
	size_t at = find_kid(n, p, len, &found);
	if (found) {
		const void *v = match_from(n->kids[at].node, next, end);
		if (v != NULL)
			return v;
	}
	return n->plus ? match_from(n->plus, next, end) : NULL;
}

const void *topic_index_match(const struct topic_index *t, const char *topic, size_t len)
{
	/* Wildcards never match topics starting with '$' (broker-internal). */
	if (len == 0 || topic[0] == '$')
		return NULL;
	if (t->root.has_hash)
		return t->root.hash;
	return match_from(&t->root, topic, topic + len);
}

int topic_filter_check(const char *filter, char *err, size_t errlen)
{
	const char *p = filter;
	size_t len = strlen(filter);

	if (len == 0 || len > 1024) {
		snprintf(err, errlen, "a topic filter must be 1 to 1024 characters");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = p[i];
		int starts = i == 0 || p[i - 1] == '/';
		int ends = i + 1 == len || p[i + 1] == '/';
		if ((ch == '+' || ch == '#') && !(starts && ends)) {
			snprintf(err, errlen, "'%c' must stand alone in a topic level (character %zu)",
				 ch, i + 1);
			return -1;
		}
		if (ch == '#' && i + 1 != len) {
			snprintf(err, errlen, "'#' must be the last level");
			return -1;
		}
		if ((unsigned char)ch < 0x20) {
			snprintf(err, errlen, "control character in topic filter (character %zu)",
				 i + 1);
			return -1;
		}
	}
	if (filter[0] == '$') {
		snprintf(err, errlen, "topics starting with '$' are reserved for the broker");
		return -1;
	}
	return 0;
}

/* The next level of a filter: start and length; *p advanced past it (NULL at the end). */
static size_t next_level(const char **p, const char **start)
{
	const char *s = *p, *slash = strchr(s, '/');
	*start = s;
	*p = slash ? slash + 1 : NULL;
	return slash ? (size_t)(slash - s) : strlen(s);
}

int topic_filters_overlap(const char *a, const char *b)
{
	const char *pa = a, *pb = b;

	for (;;) {
		if (pa == NULL && pb == NULL)
			return 1;
		/* One filter ended; the other overlaps only if its rest is "#". */
		if (pa == NULL)
			return strcmp(pb, "#") == 0;
		if (pb == NULL)
			return strcmp(pa, "#") == 0;
		const char *la, *lb;
		size_t na = next_level(&pa, &la), nb = next_level(&pb, &lb);
		if ((na == 1 && la[0] == '#') || (nb == 1 && lb[0] == '#'))
			return 1;
		int wild = (na == 1 && la[0] == '+') || (nb == 1 && lb[0] == '+');
		if (!wild && (na != nb || memcmp(la, lb, na) != 0))
			return 0;
	}
}

int topic_level_count(const char *topic, size_t len)
{
	int n = 1;
	for (size_t i = 0; i < len; i++)
		n += topic[i] == '/';
	return n;
}
