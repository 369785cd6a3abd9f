/* Unit tests for normalizer/json_path.c. */
#include "normalizer/json_path.h"

#include <stdlib.h>

#include "test.h"

static char err[128];

static const char payload[] =
	"{\"a\":{\"b\":[{\"c\":1},{\"c\":2}]},\"sensors\":[{\"co2\":400},{\"co2\":612}],"
	"\"data\":{\"pm2.5\":17.9,\"it's\":1,\"say \\\"hi\\\"\":2,\"a]b\":3},"
	"\"\xe6\xb8\xa9\xe5\xba\xa6\":21.5,\"Case\":1,\"case\":2,\"wind speed\":3,\"x-y_z\":4}";

static cJSON *tree(void)
{
	return cJSON_Parse(payload);
}

/* The number at text under root, or -1 if missing or not a number. */
static double number_at(const cJSON *root, const char *text)
{
	struct json_path *p = NULL;
	const cJSON *v;
	double d = -1;

	if (json_path_compile(text, &p, err, sizeof(err)) != 0)
		return -1;
	v = json_path_get(p, root);
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	json_path_free(p);
	return d;
}

/* 1 when text compiles and finds nothing under root. */
static int missing(const cJSON *root, const char *text)
{
	struct json_path *p = NULL;
	int gone;

	if (json_path_compile(text, &p, err, sizeof(err)) != 0)
		return 0;
	gone = json_path_get(p, root) == NULL;
	json_path_free(p);
	return gone;
}

static void get_keys_and_indexes(void)
{
	cJSON *root = tree();

	ASSERT(root != NULL);
	ASSERT_DBL_NEAR(number_at(root, "a.b[0].c"), 1, 0);
	ASSERT_DBL_NEAR(number_at(root, "a.b[1].c"), 2, 0);
	ASSERT_DBL_NEAR(number_at(root, "sensors[-1].co2"), 612, 0);
	ASSERT_DBL_NEAR(number_at(root, "sensors[-2].co2"), 400, 0);
	ASSERT_DBL_NEAR(number_at(root, "\xe6\xb8\xa9\xe5\xba\xa6"), 21.5, 0);
	ASSERT_DBL_NEAR(number_at(root, "wind speed"), 3, 0);
	ASSERT_DBL_NEAR(number_at(root, "x-y_z"), 4, 0);
	ASSERT_DBL_NEAR(number_at(root, "[\"a\"].b[0][\"c\"]"), 1, 0);
	cJSON_Delete(root);
}

static void get_quoted_keys(void)
{
	cJSON *root = tree();

	ASSERT(root != NULL);
	ASSERT_DBL_NEAR(number_at(root, "data[\"pm2.5\"]"), 17.9, 0);
	ASSERT_DBL_NEAR(number_at(root, "data['pm2.5']"), 17.9, 0);
	ASSERT_DBL_NEAR(number_at(root, "data[\"it's\"]"), 1, 0);
	ASSERT_DBL_NEAR(number_at(root, "data['say \"hi\"']"), 2, 0);
	ASSERT_DBL_NEAR(number_at(root, "data['a]b']"), 3, 0);
	cJSON_Delete(root);
}

static void get_case_sensitive(void)
{
	cJSON *root = tree();

	ASSERT(root != NULL);
	ASSERT_DBL_NEAR(number_at(root, "Case"), 1, 0);
	ASSERT_DBL_NEAR(number_at(root, "case"), 2, 0);
	ASSERT(missing(root, "CASE"));
	cJSON_Delete(root);
}

static void get_missing(void)
{
	cJSON *root = tree();

	ASSERT(root != NULL);
	ASSERT(missing(root, "nope"));
	ASSERT(missing(root, "a.nope.c"));
	ASSERT(missing(root, "sensors[2].co2"));
	ASSERT(missing(root, "sensors[-3].co2"));
	ASSERT(missing(root, "sensors[2147483647]"));
	ASSERT(missing(root, "sensors[-2147483647]"));
	/* Wrong kinds: a key into an array, an index into an object, anything into a number. */
	ASSERT(missing(root, "sensors.co2"));
	ASSERT(missing(root, "a[0]"));
	ASSERT(missing(root, "a.b[0].c.d"));
	ASSERT(missing(root, "a.b[0].c[0]"));
	ASSERT(missing(NULL, "a"));
	cJSON_Delete(root);
}

static void get_root_array(void)
{
	cJSON *root = cJSON_Parse("[{\"v\":1},{\"v\":2}]");

	ASSERT(root != NULL);
	ASSERT_DBL_NEAR(number_at(root, "[1].v"), 2, 0);
	ASSERT_DBL_NEAR(number_at(root, "[-2].v"), 1, 0);
	ASSERT(missing(root, "v"));
	cJSON_Delete(root);
}

static void text_kept(void)
{
	struct json_path *p = NULL;

	ASSERT_INT_EQ(json_path_compile("data['pm2.5'][-1]", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(json_path_text(p), "data['pm2.5'][-1]");
	json_path_free(p);
	json_path_free(NULL);
}

/* Expects text refused with exactly the message want. */
#define REFUSED(text, want)                                                                 \
	do {                                                                                \
		struct json_path *p_ = (struct json_path *)1;                               \
		err[0] = '\0';                                                              \
		ASSERT_INT_EQ(json_path_compile(text, &p_, err, sizeof(err)), -1);          \
		ASSERT(p_ == NULL);                                                         \
		ASSERT_STR_EQ(err, want);                                                   \
	} while (0)

static void empty_path_and_keys(void)
{
	REFUSED("", "empty path");
	REFUSED(NULL, "empty path");
	REFUSED(".a", "empty key at character 1");
	REFUSED("a..b", "empty key at character 3");
	REFUSED("a.", "empty key at character 3");
	REFUSED("a.[0]", "empty key at character 3");
	REFUSED("a[\"\"]", "empty key at character 3");
	REFUSED("a['']", "empty key at character 3");
}

static void brackets(void)
{
	REFUSED("a.b[0", "unclosed '[' at character 4");
	REFUSED("[", "unclosed '[' at character 1");
	REFUSED("a[0][1", "unclosed '[' at character 5");
	REFUSED("a[\"pm2.5]", "unclosed quote at character 3");
	REFUSED("a['pm2.5\"]", "unclosed quote at character 3");
	REFUSED("a['x'y]", "expected ']' at character 6");
	REFUSED("a['x'", "expected ']' at character 6");
}

static void indexes(void)
{
	REFUSED("a[]", "invalid index at character 3");
	REFUSED("a[x]", "invalid index at character 3");
	REFUSED("a[-]", "invalid index at character 3");
	REFUSED("a[1.5]", "invalid index at character 3");
	REFUSED("a[ 1]", "invalid index at character 3");
	REFUSED("a[+1]", "invalid index at character 3");
	REFUSED("a[2147483648]", "index out of range at character 3");
	REFUSED("a[-99999999999999999999]", "index out of range at character 3");

	struct json_path *p = NULL;
	ASSERT_INT_EQ(json_path_compile("a[2147483647][-2147483647][007]", &p, err, sizeof(err)),
		      0);
	json_path_free(p);
}

static void unexpected_characters(void)
{
	REFUSED("a[0]b", "unexpected character 'b' at character 5");
	REFUSED("a]", "unexpected character ']' at character 2");
	REFUSED("]", "unexpected character ']' at character 1");
	REFUSED("a\"b\"", "unexpected character '\"' at character 2");
	REFUSED("a.'b'", "unexpected character ''' at character 3");
	REFUSED("data.\"pm2.5\"", "unexpected character '\"' at character 6");
}

static void error_buffers(void)
{
	struct json_path *p = NULL;
	char small[6];

	ASSERT_INT_EQ(json_path_compile("a..b", &p, NULL, 0), -1);
	ASSERT_INT_EQ(json_path_compile("a..b", &p, small, sizeof(small)), -1);
	ASSERT_STR_EQ(small, "empty");
	ASSERT(p == NULL);
}

/* Sets text to value under root; returns json_path_set's result (or -9 if no compile). */
static int set(cJSON *root, const char *text, cJSON *value)
{
	struct json_path *p = NULL;
	int rc;

	if (json_path_compile(text, &p, err, sizeof(err)) != 0) {
		cJSON_Delete(value);
		return -9;
	}
	rc = json_path_set(p, root, value);
	json_path_free(p);
	return rc;
}

/* root printed compactly equals want. */
#define PRINTS(root, want)                                                                  \
	do {                                                                                \
		char *s_ = cJSON_PrintUnformatted(root);                                    \
		int ok_ = s_ != NULL && strcmp(s_, want) == 0;                              \
		if (!ok_)                                                                   \
			fprintf(stderr, "printed: %s\n", s_ ? s_ : "(null)");               \
		free(s_);                                                                   \
		ASSERT(ok_);                                                                \
	} while (0)

static void set_builds_payload(void)
{
	cJSON *root = cJSON_CreateObject();

	ASSERT(root != NULL);
	ASSERT_INT_EQ(set(root, "ts", cJSON_CreateNumber(1763716200123.0)), 0);
	ASSERT_INT_EQ(set(root, "sensors[0].co2", cJSON_CreateNumber(612)), 0);
	ASSERT_INT_EQ(set(root, "sensors[2].co2", cJSON_CreateNumber(7)), 0);
	ASSERT_INT_EQ(set(root, "gps.lat", cJSON_CreateNumber(35.5)), 0);
	ASSERT_INT_EQ(set(root, "gps.lon", cJSON_CreateNumber(139.5)), 0);
	ASSERT_INT_EQ(set(root, "data['pm2.5']", cJSON_CreateNumber(17.9)), 0);
	ASSERT_INT_EQ(set(root, "m[1][2]", cJSON_CreateTrue()), 0);
	PRINTS(root, "{\"ts\":1763716200123,\"sensors\":[{\"co2\":612},null,{\"co2\":7}],"
		     "\"gps\":{\"lat\":35.5,\"lon\":139.5},\"data\":{\"pm2.5\":17.9},"
		     "\"m\":[null,[null,null,true]]}");
	cJSON_Delete(root);
}

static void set_replaces(void)
{
	cJSON *root = cJSON_Parse("{\"a\":1,\"b\":[1,2,3],\"c\":3}");

	ASSERT(root != NULL);
	/* A member keeps its place; an element too. */
	ASSERT_INT_EQ(set(root, "a", cJSON_CreateString("x")), 0);
	ASSERT_INT_EQ(set(root, "b[1]", cJSON_CreateFalse()), 0);
	/* Padding nulls, or any null, give way to the containers a path needs. */
	ASSERT_INT_EQ(set(root, "b[5]", cJSON_CreateNumber(5)), 0);
	ASSERT_INT_EQ(set(root, "b[3].k", cJSON_CreateNumber(4)), 0);
	PRINTS(root, "{\"a\":\"x\",\"b\":[1,false,3,{\"k\":4},null,5],\"c\":3}");
	/* A value carrying a name of its own is renamed. */
	cJSON *named = cJSON_CreateObject();
	ASSERT(named != NULL);
	ASSERT(cJSON_AddNumberToObject(named, "old", 9) != NULL);
	cJSON *member = cJSON_DetachItemFromObjectCaseSensitive(named, "old");
	cJSON_Delete(named);
	ASSERT_INT_EQ(set(root, "c", member), 0);
	PRINTS(root, "{\"a\":\"x\",\"b\":[1,false,3,{\"k\":4},null,5],\"c\":9}");
	cJSON_Delete(root);
}

static void set_refuses(void)
{
	cJSON *root = cJSON_Parse("{\"n\":1,\"arr\":[1],\"obj\":{}}");
	const char *before = "{\"n\":1,\"arr\":[1],\"obj\":{}}";

	ASSERT(root != NULL);
	/* Every refusal frees the value (ASan would report it) and leaves the tree alone. */
	ASSERT_INT_EQ(set(root, "n.x", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(root, "n[0]", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(root, "arr.x", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(root, "obj[0]", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(root, "arr[-1]", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(root, "new.x[-1]", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(root, "[0]", cJSON_CreateNumber(1)), -1);
	PRINTS(root, before);
	ASSERT_INT_EQ(set(NULL, "a", cJSON_CreateNumber(1)), -1);
	/* A NULL value is what a failed cJSON_Create* gives: out of memory. */
	ASSERT_INT_EQ(set(root, "n", NULL), -2);
	ASSERT_INT_EQ(set(root, "z", NULL), -2);
	PRINTS(root, before);
	cJSON *arr = cJSON_CreateArray();
	ASSERT(arr != NULL);
	ASSERT_INT_EQ(set(arr, "a", cJSON_CreateNumber(1)), -1);
	ASSERT_INT_EQ(set(arr, "[1]", cJSON_CreateNumber(1)), 0);
	PRINTS(arr, "[null,1]");
	cJSON_Delete(arr);
	cJSON_Delete(root);
}

static int alloc_budget;

static void *failing_malloc(size_t n)
{
	if (alloc_budget-- <= 0)
		return NULL;
	return malloc(n);
}

/* With every allocation budget short of success, set returns -2 and leaks nothing. */
static void set_out_of_memory(void)
{
	const char *paths[] = {"a.b[2].c", "x", "r[0]", "k"};
	cJSON_Hooks hooks = {failing_malloc, free};
	int results[64] = {0}, tries = 0;
	struct json_path *p[4];

	for (int i = 0; i < 4; i++)
		ASSERT_INT_EQ(json_path_compile(paths[i], &p[i], err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		for (int budget = 0; budget < 16 && tries < 64; budget++) {
			cJSON *root = cJSON_Parse("{\"r\":[0],\"k\":1}");
			cJSON *value = cJSON_CreateNumber(1);
			if (root == NULL || value == NULL)
				break;
			cJSON_InitHooks(&hooks);
			alloc_budget = budget;
			int rc = json_path_set(p[i], root, value);
			cJSON_InitHooks(NULL);
			cJSON_Delete(root);
			results[tries++] = rc;
			if (rc == 0)
				break;
		}
	}
	for (int i = 0; i < 4; i++)
		json_path_free(p[i]);
	/* Each path ends in one success after its failures, which are all -2. */
	int successes = 0;
	for (int i = 0; i < tries; i++) {
		ASSERT(results[i] == 0 || results[i] == -2);
		successes += results[i] == 0;
	}
	ASSERT_INT_EQ(successes, 4);
	ASSERT(tries > 4);
}

static const struct test_case cases[] = {
	{"get_keys_and_indexes", get_keys_and_indexes},
	{"get_quoted_keys", get_quoted_keys},
	{"get_case_sensitive", get_case_sensitive},
	{"get_missing", get_missing},
	{"get_root_array", get_root_array},
	{"text_kept", text_kept},
	{"empty_path_and_keys", empty_path_and_keys},
	{"brackets", brackets},
	{"indexes", indexes},
	{"unexpected_characters", unexpected_characters},
	{"error_buffers", error_buffers},
	{"set_builds_payload", set_builds_payload},
	{"set_replaces", set_replaces},
	{"set_refuses", set_refuses},
	{"set_out_of_memory", set_out_of_memory},
	{NULL, NULL},
};

TEST_MAIN(cases)
