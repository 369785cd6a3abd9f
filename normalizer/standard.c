/* Loading one standard file: what a data type is (see docs/schema-language.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/loaders.h"
#include "normalizer/units.h"

#define FIELD_NAME_MAX 55 /* leaves room for "_lat"/"_lon" within PostgreSQL's 63 */

static const char *const standard_keys[] = {"standard", "version", "title", "description",
					    "interval", "fields", NULL};
static const char *const field_keys[] = {"type", "unit", "range", "required", "values",
					 "max_length", "description", NULL};
static const char *const type_names[] = {"number", "integer", "boolean", "enum",
					 "string", "geo", NULL};
static const char *const reserved_names[] = {"time", "device_id", "received_at", "source",
					     NULL};

static int check_field_name(struct yctx *c, const struct ynode *k)
{
	const char *s = k->text;
	int ok = k->len > 0 && k->len <= FIELD_NAME_MAX && islower((unsigned char)s[0]);
	for (size_t i = 0; ok && i < k->len; i++)
		ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_';
	if (!ok) {
		yerr(c, k,
		     "field name \"%s\" must be lower-case letters, digits and '_', start with a "
		     "letter, at most %d characters",
		     s, FIELD_NAME_MAX);
		return -1;
	}
	for (int i = 0; reserved_names[i] != NULL; i++) {
		if (strcmp(s, reserved_names[i]) == 0) {
			yerr(c, k, "field name \"%s\" is reserved (every table has it)", s);
			return -1;
		}
	}
	return 0;
}

static int load_range(struct yctx *c, const struct ynode *n, struct norm_field *f)
{
	if (n->kind != YNODE_SEQ || n->n != 2) {
		yerr(c, n, "range must be a list of two numbers: [min, max]");
		return -1;
	}
	if (ynumber(c, n->kids[0], "range minimum", &f->min) < 0 ||
	    ynumber(c, n->kids[1], "range maximum", &f->max) < 0)
		return -1;
	if (f->min > f->max) {
		yerr(c, n, "range [%s, %s] is empty: the minimum is above the maximum",
		     n->kids[0]->text, n->kids[1]->text);
		return -1;
	}
	f->has_range = 1;
	return 0;
}

static int load_enum_values(struct yctx *c, const struct ynode *n, struct norm_field *f)
{
	if (n->kind != YNODE_SEQ || n->n == 0) {
		yerr(c, n, "values must be a non-empty list");
		return -1;
	}
	if (ystring_list(c, n, "enum value", &f->values, &f->n_values) < 0)
		return -1;
	for (size_t i = 0; i < f->n_values; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(f->values[i], f->values[j]) == 0) {
				yerr(c, n->kids[i], "enum value \"%s\" is listed twice",
				     f->values[i]);
				return -1;
			}
		}
	}
	return 0;
}

/* Keys that only make sense for some types are errors elsewhere, so a typo'd type or a
 * misplaced unit never passes silently. */
static int check_keys_fit_type(struct yctx *c, const struct ynode *spec, enum norm_type t)
{
	int numeric = t == NORM_NUMBER || t == NORM_INTEGER;
	const struct {
		const char *key;
		int fits;
		const char *need;
	} rules[] = {
		{"unit", numeric, "number or integer"},
		{"range", numeric, "number or integer"},
		{"values", t == NORM_ENUM, "enum"},
		{"max_length", t == NORM_STRING, "string"},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct ynode *v = ynode_get(spec, rules[i].key);
		if (v != NULL && !rules[i].fits) {
			yerr(c, v, "\"%s\" applies only to %s fields, not %s", rules[i].key,
			     rules[i].need, norm_type_name(t));
			rc = -1;
		}
	}
	if (t == NORM_ENUM && ynode_get(spec, "values") == NULL) {
		yerr(c, spec, "an enum field needs \"values\"");
		rc = -1;
	}
	return rc;
}

static int load_unit(struct yctx *c, const struct ynode *n, struct norm_field *f)
{
	if (yscalar(c, n, "unit") < 0)
		return -1;
	f->unit = unit_find(n->text);
	if (f->unit == NULL) {
		yerr(c, n, "unknown unit \"%s\"", n->text);
		return -1;
	}
	return 0;
}

static int load_field(struct yctx *c, const struct ynode *key, const struct ynode *spec,
		      struct norm_field *f)
{
	const struct ynode *v;
	int type, errors = c->errors;

	f->name = strdup(key->text);
	if (f->name == NULL) {
		c->d->oom = 1;
		return -1;
	}
	check_field_name(c, key);
	if (ymap_check(c, spec, "a field", field_keys) < 0 && spec->kind != YNODE_MAP)
		return -1;
	v = yrequire(c, spec, "type", "a field");
	if (v == NULL || ychoice(c, v, "type", type_names, &type) < 0)
		return -1;
	f->type = (enum norm_type)type;
	check_keys_fit_type(c, spec, f->type);
	if ((v = ynode_get(spec, "unit")) != NULL)
		load_unit(c, v, f);
	if ((v = ynode_get(spec, "range")) != NULL)
		load_range(c, v, f);
	if ((v = ynode_get(spec, "required")) != NULL)
		ybool(c, v, "required", &f->required);
	if ((v = ynode_get(spec, "values")) != NULL && f->type == NORM_ENUM)
		load_enum_values(c, v, f);
	if ((v = ynode_get(spec, "max_length")) != NULL) {
		long len;
		if (yinteger(c, v, "max_length", 1, 1000000, &len) == 0)
			f->max_length = len;
	}
	if ((v = ynode_get(spec, "description")) != NULL)
		ystring(c, v, "description", &f->description);
	return c->errors == errors ? 0 : -1;
}

static int load_fields(struct yctx *c, const struct ynode *n, struct norm_standard *st)
{
	if (n->kind != YNODE_MAP || n->n == 0) {
		yerr(c, n, "fields must be a non-empty mapping of field name to definition");
		return -1;
	}
	st->fields = calloc(n->n, sizeof(*st->fields));
	if (st->fields == NULL) {
		c->d->oom = 1;
		return -1;
	}
	st->n_fields = n->n;
	for (size_t i = 0; i < n->n; i++)
		load_field(c, ynode_key(n, i), ynode_value(n, i), &st->fields[i]);
	return 0;
}

static char *table_name(const char *id)
{
	size_t len = strlen(id);
	char *t = malloc(len + 5);
	if (t == NULL)
		return NULL;
	memcpy(t, "std_", 4);
	for (size_t i = 0; i <= len; i++)
		t[4 + i] = id[i] == '-' ? '_' : id[i];
	return t;
}

int standard_load(struct yctx *c, const struct ynode *root, struct norm_standard *st)
{
	const struct ynode *v;
	int errors = c->errors;
	long version;

	ymap_check(c, root, "a standard", standard_keys);
	if (root->kind != YNODE_MAP)
		return -1;
	if ((v = yrequire(c, root, "standard", "a standard")) != NULL &&
	    yident(c, v, "standard id", &st->id) == 0 && (st->table = table_name(st->id)) == NULL)
		c->d->oom = 1;
	if ((v = yrequire(c, root, "version", "a standard")) != NULL &&
	    yinteger(c, v, "version", 1, 1000000, &version) == 0)
		st->version = (int)version;
	if ((v = yrequire(c, root, "title", "a standard")) != NULL)
		ystring(c, v, "title", &st->title);
	if ((v = ynode_get(root, "description")) != NULL)
		ystring(c, v, "description", &st->description);
	if ((v = yrequire(c, root, "interval", "a standard")) != NULL)
		yduration(c, v, "interval", &st->interval_ms);
	if ((v = yrequire(c, root, "fields", "a standard")) != NULL)
		load_fields(c, v, st);
	return c->errors == errors ? 0 : -1;
}

void standard_clear(struct norm_standard *st)
{
	for (size_t i = 0; i < st->n_fields; i++) {
		struct norm_field *f = &st->fields[i];
		free(f->name);
		strlist_free(f->values, f->n_values);
		free(f->description);
	}
	free(st->fields);
	free(st->id);
	free(st->table);
	free(st->title);
	free(st->description);
	free(st->file);
	memset(st, 0, sizeof(*st));
}

const char *norm_type_name(enum norm_type t)
{
	return t <= NORM_GEO ? type_names[t] : "?";
}
