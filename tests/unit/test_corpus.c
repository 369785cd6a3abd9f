/*
 * Public bad-input suites against the parsers of untrusted input, under ASan+UBSan:
 * JSONTestSuite through the normalizer, yaml-test-suite through the schema loader, and
 * the big list of naughty strings through a string field (byte-equal round trip).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "normalizer/normalize.h"
#include "test.h"

static const char *const STD =
	"standard: notes\nversion: 1\ntitle: Notes\ninterval: 1h\n"
	"fields:\n  text: {type: string}\n  level: {type: number}\n";
static const char *const SRC =
	"source: any\nstandard: notes\ntopic: t/+\nformat: json\ndevice: {topic: 2}\n"
	"fields:\n  text: [text, '[0]']\n  level: [level, '[1]']\n";
static const char *const SRC_BATCH =
	"source: many\nstandard: notes\ntopic: b/+\nformat: json-batch\ndevice: {topic: 2}\n"
	"fields:\n  text: text\n  level: level\n";

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void jsontestsuite(void)
{
	char dir[4096], path[8192];
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(STD, NULL, SRC, SRC_BATCH, NULL, NULL, &d);
	struct norm_result *r = norm_result_create();
	int files = 0, bad = 0;

	ASSERT_STR_EQ(fixture_first(&d), "");
	ASSERT(s != NULL && r != NULL);
	snprintf(dir, sizeof(dir), "%s/tests/corpus/jsontestsuite/test_parsing", fixture_repo());
	DIR *dp = opendir(dir);
	ASSERT(dp != NULL);
	for (struct dirent *e; (e = readdir(dp)) != NULL;) {
		char kind = e->d_name[0];
		size_t len;
		if (e->d_name[0] == '.' || e->d_name[1] != '_')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		char *buf = fixture_read_file(path, &len);
		if (buf == NULL)
			continue;
		files++;
		for (int topic = 0; topic < 2; topic++) {
			int rc = norm_normalize(s, NULL, topic ? "b/dev" : "t/dev", 5, buf, len, 0, r);
			const char *why = norm_result_reason(r);
			/* n_: refused as JSON. y_: valid JSON, so any refusal is about the schema. */
			if ((kind == 'n' && (rc != NORM_REJECT || !starts(why, "payload is not JSON: "))) ||
			    (kind == 'y' && rc == NORM_REJECT && starts(why, "payload is not JSON: ") &&
			     !strstr(why, "duplicate key") && !strstr(why, "\\u0000")) ||
			    rc == NORM_ENOMEM || (rc == NORM_REJECT && why[0] == '\0')) {
				fprintf(stderr, "%s (%s): rc %d: %s\n", e->d_name, topic ? "batch" : "json", rc, why);
				bad++;
			}
		}
		free(buf);
	}
	closedir(dp);
	ASSERT(files > 300);
	ASSERT_INT_EQ(bad, 0);
	norm_result_free(r);
	norm_schema_free(s);
}

static int feed_yaml(const char *text, size_t len)
{
	static const enum norm_file_kind kinds[] = {NORM_FILE_STANDARD, NORM_FILE_SOURCE,
						    NORM_FILE_RULES, NORM_FILE_GROUPS};
	int refused = 0;
	for (int k = 0; k < 4; k++) {
		struct norm_file files[2] = {
			{NORM_FILE_STANDARD, "standards/notes.yaml", STD, strlen(STD)},
			{kinds[k], "under-test.yaml", text, len},
		};
		struct norm_diags d = {0};
		struct norm_schema *s = NULL;
		int rc = norm_schema_load(files, 2, &s, &d);
		refused += rc != 0;
		if (rc != 0 && d.n == 0)
			refused += 100; /* refused without saying why */
		norm_schema_free(s);
		diags_clear(&d);
	}
	return refused;
}

static void yaml_test_suite(void)
{
	char dir[4096], path[8192];
	int files = 0, silent = 0;

	snprintf(dir, sizeof(dir), "%s/tests/corpus/yaml-test-suite", fixture_repo());
	DIR *dp = opendir(dir);
	ASSERT(dp != NULL);
	for (struct dirent *e; (e = readdir(dp)) != NULL;) {
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		for (int sub = -1; sub < 20; sub++) {
			if (sub < 0)
				snprintf(path, sizeof(path), "%s/%s/in.yaml", dir, e->d_name);
			else
				snprintf(path, sizeof(path), "%s/%s/%02d/in.yaml", dir, e->d_name, sub);
			char *buf = fixture_read_file(path, &len);
			if (buf == NULL)
				continue;
			files++;
			if (feed_yaml(buf, len) >= 100) {
				fprintf(stderr, "%s: refused without a diagnostic\n", path);
				silent++;
			}
			free(buf);
		}
	}
	closedir(dp);
	ASSERT(files > 300);
	ASSERT_INT_EQ(silent, 0);
}

/* Every naughty string as a field value: stored byte for byte, or refused with a reason. */
static void naughty_strings(void)
{
	char path[4096];
	size_t len;
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(STD, NULL, SRC, NULL, NULL, NULL, &d);
	struct norm_result *r = norm_result_create();
	int checked = 0, bad = 0;

	ASSERT(s != NULL && r != NULL);
	snprintf(path, sizeof(path), "%s/tests/corpus/naughty/blns.json", fixture_repo());
	char *buf = fixture_read_file(path, &len);
	ASSERT(buf != NULL);
	cJSON *list = cJSON_ParseWithLength(buf, len);
	ASSERT(cJSON_IsArray(list));
	for (const cJSON *item = list->child; item != NULL; item = item->next) {
		cJSON *msg = cJSON_CreateObject();
		cJSON_AddItemToObject(msg, "text", cJSON_CreateString(item->valuestring));
		char *payload = cJSON_PrintUnformatted(msg);
		int rc = norm_normalize(s, NULL, "t/dev", 5, payload, strlen(payload), 0, r);
		if (rc == NORM_OK && item->valuestring[0] != '\0') {
			const struct norm_value *v = &norm_result_record(r, 0)->values[0];
			if (v->text_len != strlen(item->valuestring) ||
			    memcmp(v->text, item->valuestring, v->text_len) != 0) {
				fprintf(stderr, "not byte-equal: %s\n", item->valuestring);
				bad++;
			}
			checked++;
		} else if (rc != NORM_OK && item->valuestring[0] != '\0') {
			fprintf(stderr, "refused %s: %s\n", item->valuestring, norm_result_reason(r));
			bad++;
		}
		free(payload);
		cJSON_Delete(msg);
	}
	ASSERT(checked > 400);
	ASSERT_INT_EQ(bad, 0);
	cJSON_Delete(list);
	free(buf);
	norm_result_free(r);
	norm_schema_free(s);
}

static const struct test_case cases[] = {
	{"jsontestsuite", jsontestsuite},
	{"yaml_test_suite", yaml_test_suite},
	{"naughty_strings", naughty_strings},
	{NULL, NULL},
};

TEST_MAIN(cases)
