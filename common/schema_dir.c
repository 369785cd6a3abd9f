/* Reading a schema directory into memory for norm_schema_load. */
#include "common/schema_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES (4 * 1024 * 1024) /* read a bit more than the loader takes, so it can say so */

struct file_list {
	struct norm_file *files;
	size_t n, cap;
};

static int read_file(const char *path, char **data, size_t *len, struct norm_diags *d)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (f == NULL || fstat(fileno(f), &st) < 0) {
		diags_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (st.st_size > MAX_FILE_BYTES) {
		diags_add(d, path, 0, 0, "file is larger than %d bytes", MAX_FILE_BYTES);
		fclose(f);
		return -1;
	}
	*data = malloc((size_t)st.st_size + 1);
	*len = *data ? fread(*data, 1, (size_t)st.st_size, f) : 0;
	int bad = *data == NULL || ferror(f);
	fclose(f);
	if (bad) {
		diags_add(d, path, 0, 0, "cannot read: %s", *data ? "read error" : "out of memory");
		free(*data);
		return -1;
	}
	return 0;
}

static int add_file(struct file_list *l, enum norm_file_kind kind, const char *path,
		    struct norm_diags *d)
{
	char *data, *copy;
	size_t len;

	if (read_file(path, &data, &len, d) < 0)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct norm_file *grown = realloc(l->files, cap * sizeof(*grown));
		if (grown == NULL) {
			free(data);
			return -2;
		}
		l->files = grown;
		l->cap = cap;
	}
	if ((copy = strdup(path)) == NULL) {
		free(data);
		return -2;
	}
	l->files[l->n++] = (struct norm_file){kind, copy, data, len};
	return 0;
}

static int yaml_name(const struct dirent *e)
{
	size_t len = strlen(e->d_name);
	if (e->d_name[0] == '.')
		return 0;
	return (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0);
}

/* Adds every *.yaml of dir/sub in name order (so diagnostics come out the same each run). */
static int add_folder(struct file_list *l, const char *dir, const char *sub,
		      enum norm_file_kind kind, int required, struct norm_diags *d)
{
	char path[4096];
	struct dirent **names;
	int n, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	n = scandir(path, &names, yaml_name, alphasort);
	if (n < 0) {
		if (errno != ENOENT || required)
			diags_add(d, path, 0, 0, "cannot read the folder: %s", strerror(errno));
		return errno == ENOENT && !required ? 0 : -1;
	}
	for (int i = 0; i < n; i++) {
		char file[4096];
		int w = snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		if (rc != -2 && w > 0 && (size_t)w < sizeof(file))
			rc = add_file(l, kind, file, d) == -2 ? -2 : rc;
		free(names[i]);
	}
	free(names);
	return rc;
}

static void list_free(struct file_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->files[i].path);
		free((char *)l->files[i].data);
	}
	free(l->files);
}

int schema_dir_load(const char *dir, struct norm_schema **out, struct norm_diags *d)
{
	struct file_list l = {0};
	char groups[4096];
	struct stat st;
	int rc;

	*out = NULL;
	snprintf(groups, sizeof(groups), "%s/groups.yaml", dir);
	if (add_folder(&l, dir, "standards", NORM_FILE_STANDARD, 1, d) == -2 ||
	    add_folder(&l, dir, "sources", NORM_FILE_SOURCE, 0, d) == -2 ||
	    add_folder(&l, dir, "rules", NORM_FILE_RULES, 0, d) == -2 ||
	    (stat(groups, &st) == 0 && add_file(&l, NORM_FILE_GROUPS, groups, d) == -2)) {
		list_free(&l);
		return -2;
	}
	rc = norm_schema_load(l.files, l.n, out, d);
	if (rc == 0 && d->n > 0) { /* an unreadable file is as bad as a broken one */
		norm_schema_free(*out);
		*out = NULL;
		rc = -1;
	}
	list_free(&l);
	return rc;
}
