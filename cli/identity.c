/* The identities registry and the ACL generated from it (see identity.h). */
#include "cli/identity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/identity_broker.h"
#include "common/xmalloc.h"

#define LINE_MAX_BYTES 2048

static const char *const kind_names[] = {"device", "staff", "service"};

/* What each service role may do: "read TOPIC" / "write TOPIC" ACL lines. The ingest reads
 * every device topic and writes the normalized stream and its status; alerts reads that
 * stream and the acks and writes the staff topics. A $share/GROUP/ subscription needs no
 * line of its own: Mosquitto checks the topic without the prefix (tested with --group). */
static const struct {
	const char *role;
	const char *lines[6];
} roles[] = {
	{"ingest", {"read city/#", "write std/#", "write citylink/status/ingest/#"}},
	{"alerts", {"read std/#", "read staff/ack/#", "write staff/#",
		    "write citylink/status/alerts/#"}},
	{"simulator", {"write city/#"}},
	{"monitor", {"read citylink/status/#"}},
};

const char *ident_kind_name(enum ident_kind k)
{
	return kind_names[k];
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int ident_name_check(const char *what, const char *s, char *err, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n > IDENT_NAME_MAX) {
		snprintf(err, len, "%s \"%s\" must be 1 to %d characters long", what, s,
			 IDENT_NAME_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (name_char(s[i]))
			continue;
		if (c < 0x20 || c >= 0x7f)
			snprintf(err, len, "%s \"%s\": byte 0x%02x at %zu is not allowed (only "
				 "A-Z a-z 0-9 . _ -)", what, s, c, i + 1);
		else
			snprintf(err, len, "%s \"%s\": '%c' is not allowed (only A-Z a-z 0-9 . _ -; "
				 "no MQTT wildcards, '/', spaces or ':')", what, s, c);
		return -1;
	}
	if (s[0] == '.' || s[0] == '_' || s[0] == '-') {
		snprintf(err, len, "%s \"%s\" must start with a letter or digit", what, s);
		return -1;
	}
	return 0;
}

int ident_role_known(const char *role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].role, role) == 0)
			return 1;
	return 0;
}

void ident_add(struct ident_set *set, enum ident_kind kind, const char *name,
	       const char *value)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 16;
		set->v = xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n++] = (struct ident){kind, xstrdup(name), xstrdup(value)};
}

const struct ident *ident_find(const struct ident_set *set, const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

int ident_remove(struct ident_set *set, enum ident_kind kind, const char *name)
{
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].kind != kind || strcmp(set->v[i].name, name) != 0)
			continue;
		free(set->v[i].name);
		free(set->v[i].value);
		memmove(&set->v[i], &set->v[i + 1], (set->n - i - 1) * sizeof(*set->v));
		set->n--;
		return 0;
	}
	return -1;
}

void ident_set_free(struct ident_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].value);
	}
	free(set->v);
	*set = (struct ident_set){0};
}

/* ---- reading ---- */

/* Checks a staff entry's "g1,g2" groups. */
static int groups_check(const char *value, char *err, size_t len)
{
	char *copy = xstrdup(value), *save = NULL;
	int n = 0, rc = 0;

	for (char *g = strtok_r(copy, ",", &save); g != NULL; g = strtok_r(NULL, ",", &save)) {
		if (ident_name_check("group", g, err, len) != 0) {
			rc = -1;
			break;
		}
		if (++n > IDENT_GROUPS_MAX) {
			snprintf(err, len, "more than %d groups", IDENT_GROUPS_MAX);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && n == 0) {
		snprintf(err, len, "no group");
		rc = -1;
	}
	free(copy);
	return rc;
}

/* One "KIND NAME VALUE" line into set; -1 with the reason in err. */
static int parse_line(char *line, struct ident_set *set, char *err, size_t len)
{
	char *save = NULL, *kind = strtok_r(line, " \t", &save);
	char *name = strtok_r(NULL, " \t", &save), *value = strtok_r(NULL, " \t", &save);
	int k = -1;

	for (int i = 0; i < 3 && kind != NULL; i++)
		if (strcmp(kind, kind_names[i]) == 0)
			k = i;
	if (k < 0 || name == NULL || value == NULL || strtok_r(NULL, " \t", &save) != NULL) {
		snprintf(err, len, "expected \"device|staff|service NAME VALUE\"");
		return -1;
	}
	if (ident_name_check(kind, name, err, len) != 0)
		return -1;
	if (ident_find(set, name) != NULL) {
		snprintf(err, len, "\"%s\" is listed twice", name);
		return -1;
	}
	if ((k == IDENT_DEVICE && ident_name_check("source", value, err, len) != 0) ||
	    (k == IDENT_STAFF && groups_check(value, err, len) != 0))
		return -1;
	if (k == IDENT_SERVICE && !ident_role_known(value)) {
		snprintf(err, len, "unknown role \"%s\"", value);
		return -1;
	}
	ident_add(set, (enum ident_kind)k, name, value);
	return 0;
}

int ident_load(const char *path, struct ident_set *set, char *err, size_t len)
{
	char line[LINE_MAX_BYTES], why[300];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = 0;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strlen(line);
		lineno++;
		if (n > 0 && line[n - 1] == '\n') {
			line[--n] = '\0';
		} else if (!feof(f)) {
			snprintf(why, sizeof(why), "line too long");
			rc = -1;
			break;
		}
		/* Comments and blank lines are kept out of the set (and of the rewrite). */
		if (line[0] != '#' && line[strspn(line, " \t")] != '\0')
			rc = parse_line(line, set, why, sizeof(why));
	}
	if (rc != 0) {
		snprintf(err, len, "%s:%d: %s", path, lineno, why);
		rc = -2;
	} else if (ferror(f)) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	fclose(f);
	return rc;
}

/* ---- writing ---- */

typedef void (*write_fn)(FILE *out, const struct ident_set *set);

/* Writes through fn into path.tmp, syncs it and renames it over path: the broker never
 * reads a half-written file. */
static int write_atomic(const char *path, write_fn fn, const struct ident_set *set, char *err,
			size_t len)
{
	char tmp[4096];
	FILE *f = NULL;
	int fd = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, len, "%s: path too long", path);
		return -1;
	}
	if ((fd = broker_file_create(tmp, 1, err, len)) < 0)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto fail;
	}
	fn(f, set);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		fclose(f);
		goto fail;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, len, "%s: %s", path, strerror(errno));
	unlink(tmp);
	return -1;
}

static void registry_write(FILE *out, const struct ident_set *set)
{
	fprintf(out, "# citylink broker identities: KIND NAME VALUE (device: source, staff: "
		     "groups, service: role).\n# Written by `citylink device|staff|service "
		     "add|remove`; the acl file is generated from it.\n");
	for (size_t i = 0; i < set->n; i++)
		fprintf(out, "%s %s %s\n", kind_names[set->v[i].kind], set->v[i].name,
			set->v[i].value);
}

int ident_save(const char *path, const struct ident_set *set, char *err, size_t len)
{
	return write_atomic(path, registry_write, set, err, len);
}

static void acl_service(FILE *out, const char *role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].role, role) == 0)
			for (size_t j = 0; j < 6 && roles[i].lines[j] != NULL; j++)
				fprintf(out, "topic %s\n", roles[i].lines[j]);
}

static void acl_staff(FILE *out, const char *groups)
{
	char *copy = xstrdup(groups), *save = NULL;

	for (char *g = strtok_r(copy, ",", &save); g != NULL; g = strtok_r(NULL, ",", &save))
		fprintf(out, "topic read staff/%s/#\n", g);
	fprintf(out, "topic write staff/ack/#\n");
	free(copy);
}

static void acl_write(FILE *out, const struct ident_set *set)
{
	fprintf(out, "# Mosquitto ACL generated by citylink from the identities file next to "
		     "it: do not edit.\n# Anything not listed is denied. Devices get per-user "
		     "lines (not \"pattern write city/+/%%u/#\"),\n# which pin the source too.\n");
	for (size_t i = 0; i < set->n; i++) {
		const struct ident *e = &set->v[i];
		fprintf(out, "\n# %s %s %s\nuser %s\n", kind_names[e->kind], e->name, e->value,
			e->name);
		if (e->kind == IDENT_DEVICE)
			fprintf(out, "topic write city/%s/%s/#\n", e->value, e->name);
		else if (e->kind == IDENT_STAFF)
			acl_staff(out, e->value);
		else
			acl_service(out, e->value);
	}
}

int ident_write_acl(const char *path, const struct ident_set *set, char *err, size_t len)
{
	return write_atomic(path, acl_write, set, err, len);
}

void ident_print(FILE *out, const struct ident_set *set, enum ident_kind kind)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].kind == kind)
			fprintf(out, "%-32s %s\n", set->v[i].name, set->v[i].value);
}
