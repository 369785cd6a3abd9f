/*
 * A YAML document as a small tree with the position of every node, built with libyaml's
 * event API. Authors' files are bounded and plain: anchors, aliases, tags, complex keys,
 * duplicate keys and several documents per file are refused here, once, for every loader.
 */
#ifndef CITYLINK_YAMLTREE_H
#define CITYLINK_YAMLTREE_H

#include <stddef.h>

#include "normalizer/diag.h"

#define YAML_MAX_BYTES (1024 * 1024)
#define YAML_MAX_DEPTH 32
#define YAML_MAX_NODES 200000

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	int line, col;      /* 1-based position of the node's first character */
	int plain;          /* scalar written without quotes: only then is `true` a boolean */
	char *text;         /* scalar text, NUL-terminated (owned) */
	size_t len;         /* scalar length in bytes (text may hold no NUL: refused) */
	struct ynode **kids; /* SEQ: n items; MAP: n pairs stored key, value, key, value... */
	size_t n;
	int key_pending;    /* MAP under construction: a key waits for its value */
};

/* The value of key in map m, or NULL. m may be NULL or not a map. */
const struct ynode *ynode_get(const struct ynode *m, const char *key);
/* The i-th key / value of a map. */
const struct ynode *ynode_key(const struct ynode *m, size_t i);
const struct ynode *ynode_value(const struct ynode *m, size_t i);

/*
 * Parses buf[0..len) (named file in diagnostics). Returns 0 and *out (NULL for a file with
 * no document; caller frees with ynode_free), or -1 after adding every problem to d.
 */
int ytree_parse(const char *file, const char *buf, size_t len, struct ynode **out,
		struct norm_diags *d);

void ynode_free(struct ynode *n);

#endif
