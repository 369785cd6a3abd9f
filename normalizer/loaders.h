/*
 * The per-file loaders behind norm_schema_load (internal to the normalizer). Each reads
 * one parsed YAML file into a model struct, reporting every problem through c; on error
 * the struct may be partly filled and must still be released with its _clear function.
 */
#ifndef CITYLINK_LOADERS_H
#define CITYLINK_LOADERS_H

#include "normalizer/model.h"
#include "normalizer/yread.h"

/* What the later loaders look up in the earlier ones. */
struct load_refs {
	const struct norm_standard *standards;
	size_t n_standards;
	char *const *groups;
	size_t n_groups;
};

int standard_load(struct yctx *c, const struct ynode *root, struct norm_standard *out);
void standard_clear(struct norm_standard *st);

int source_load(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
		struct norm_source *out);
void source_clear(struct norm_source *src);

/* A rules file holds a list; loaded rules are appended to *rules. */
int rules_load(struct yctx *c, const struct ynode *root, const struct load_refs *refs,
	       struct norm_rule **rules, size_t *n);
void rule_clear(struct norm_rule *r);

int groups_load(struct yctx *c, const struct ynode *root, char ***groups, size_t *n);

const struct norm_standard *refs_standard(const struct load_refs *refs, const char *id);

#endif
