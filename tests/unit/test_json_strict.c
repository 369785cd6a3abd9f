/* Unit tests for normalizer/json_strict.c, ending with the whole of JSONTestSuite. */
#include "normalizer/json_strict.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>

#include "fixture.h"
#include "test.h"

static char err[256];

/* Parses a NUL-terminated text (the NUL not included) with depth 32. */
static int parse(const char *text, cJSON **out)
{
	err[0] = '\0';
	return json_parse_strict(text, strlen(text), 32, out, err, sizeof(err));
}

/* Expects text refused with exactly the reason want. */
#define REFUSED(text, want)                                                                 \
	do {                                                                                \
		cJSON *t_ = (cJSON *)1;                                                     \
		ASSERT_INT_EQ(parse(text, &t_), -1);                                        \
		ASSERT(t_ == NULL);                                                         \
		ASSERT_STR_EQ(err, want);                                                   \
	} while (0)

static void accepts_values(void)
{
	cJSON *t = NULL;

	ASSERT_INT_EQ(parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\\n\\u00e9\"],"
			    " \"b\": {}, \"c\": []}\r\n\t",
			    &t),
		      0);
	ASSERT(t != NULL);
	cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "a");
	ASSERT_INT_EQ(cJSON_GetArraySize(a), 6);
	ASSERT_DBL_NEAR(cJSON_GetArrayItem(a, 1)->valuedouble, -2500, 0);
	ASSERT(cJSON_IsTrue(cJSON_GetArrayItem(a, 2)));
	ASSERT(cJSON_IsNull(cJSON_GetArrayItem(a, 4)));
	ASSERT_STR_EQ(cJSON_GetArrayItem(a, 5)->valuestring, "x\n\xc3\xa9");
	cJSON_Delete(t);
}

static void accepts_scalars(void)
{
	cJSON *t = NULL;

	ASSERT_INT_EQ(parse("0", &t), 0);
	ASSERT_DBL_NEAR(t->valuedouble, 0, 0);
	cJSON_Delete(t);
	ASSERT_INT_EQ(parse("-0.5E-2", &t), 0);
	ASSERT_DBL_NEAR(t->valuedouble, -0.005, 1e-18);
	cJSON_Delete(t);
	ASSERT_INT_EQ(parse("\"\"", &t), 0);
	ASSERT_STR_EQ(t->valuestring, "");
	cJSON_Delete(t);
	/* Underflow is a number in range: it rounds to zero. */
	ASSERT_INT_EQ(parse("[1e-999]", &t), 0);
	ASSERT_DBL_NEAR(cJSON_GetArrayItem(t, 0)->valuedouble, 0, 0);
	cJSON_Delete(t);
}

static void accepts_unicode(void)
{
	cJSON *t = NULL;

	/* A surrogate pair, raw 2-, 3- and 4-byte UTF-8, and the largest code point. */
	ASSERT_INT_EQ(parse("[\"\\ud834\\udd1e\", \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
			    " \"\xf4\x8f\xbf\xbf\", \"\\uDBFF\\uDFFF\"]",
			    &t),
		      0);
	ASSERT_STR_EQ(cJSON_GetArrayItem(t, 0)->valuestring, "\xf0\x9d\x84\x9e");
	ASSERT_STR_EQ(cJSON_GetArrayItem(t, 1)->valuestring,
		      "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	ASSERT_STR_EQ(cJSON_GetArrayItem(t, 3)->valuestring, "\xf4\x8f\xbf\xbf");
	cJSON_Delete(t);
}

static void long_strings_and_numbers(void)
{
	size_t n = 10000;
	char *text = malloc(n + 32);
	cJSON *t = NULL;

	ASSERT(text != NULL);
	/* Long enough to take the eight-bytes-at-a-time path, with specials at odd places. */
	text[0] = '"';
	for (size_t i = 1; i < n; i++)
		text[i] = (char)('a' + i % 26);
	memcpy(text + 997, "\\n\xc3\xa9", 4);
	memcpy(text + n, "\"", 2);
	ASSERT_INT_EQ(parse(text, &t), 0);
	ASSERT_INT_EQ(strlen(t->valuestring), n - 2);
	cJSON_Delete(t);
	/* A number longer than cJSON's old 64-byte buffer. */
	memset(text, '1', 200);
	memcpy(text + 200, ".5", 3);
	ASSERT_INT_EQ(parse(text, &t), 0);
	ASSERT_DBL_NEAR(t->valuedouble / 1.1111111111111111e199, 1, 1e-15);
	cJSON_Delete(t);
	free(text);
}

/* "\"" + n copies of a 3-byte character + tail, into buf; returns the length. */
static size_t cjk_run(char *buf, size_t cap, int n, const char *ch, const char *tail)
{
	size_t o = 0;

	buf[o++] = '"';
	for (int i = 0; i < n && o + 3 < cap; i++, o += 3)
		memcpy(buf + o, ch, 3);
	for (; *tail != '\0' && o + 1 < cap; tail++)
		buf[o++] = *tail;
	buf[o] = '\0';
	return o;
}

static void accepts_cjk_runs(void)
{
	char text[512];
	cJSON *t = NULL;

	/* Runs of every length around the 6-byte stride, ending at the quote. */
	for (int n = 1; n < 20; n++) {
		cjk_run(text, sizeof(text), n, "\xe6\x9d\xb1", "\"");
		ASSERT_INT_EQ(parse(text, &t), 0);
		ASSERT_INT_EQ(strlen(t->valuestring), 3 * n);
		cJSON_Delete(t);
	}
	/* Leads E0 and ED need their own checks; both have valid forms. */
	cjk_run(text, sizeof(text), 9, "\xe0\xa0\x80", "\xed\x9f\xbf\xe6\x9d\xb1\"");
	ASSERT_INT_EQ(parse(text, &t), 0);
	cJSON_Delete(t);
	cjk_run(text, sizeof(text), 9, "\xe6\x9d\xb1", "\xed\x9f\xbf\xe0\xa0\x80" "abc\"");
	ASSERT_INT_EQ(parse(text, &t), 0);
	cJSON_Delete(t);
	/* Mixed with 2- and 4-byte characters and ASCII. */
	cjk_run(text, sizeof(text), 5, "\xe6\x9d\xb1", "\xc3\xa9\xf0\x9f\x98\x80x\xe6\x9d\xb1\"");
	ASSERT_INT_EQ(parse(text, &t), 0);
	cJSON_Delete(t);
}

static void refuses_bad_cjk_runs(void)
{
	char text[512];
	cJSON *t = NULL;

	/* A surrogate (ED A0 80) and an overlong (E0 80 80) inside a run of good ones. */
	cjk_run(text, sizeof(text), 7, "\xe6\x9d\xb1", "\xed\xa0\x80\xe6\x9d\xb1\"");
	ASSERT_INT_EQ(parse(text, &t), -1);
	ASSERT_STR_EQ(err, "invalid UTF-8 at byte 22");
	cjk_run(text, sizeof(text), 8, "\xe6\x9d\xb1", "\xe0\x80\x80\xe6\x9d\xb1\"");
	ASSERT_INT_EQ(parse(text, &t), -1);
	ASSERT_STR_EQ(err, "invalid UTF-8 at byte 25");
	/* A continuation byte missing in the second character of a pair. */
	cjk_run(text, sizeof(text), 4, "\xe6\x9d\xb1", "\xe6\x9d\xe6\x9d\xb1\xe6\x9d\xb1\"");
	ASSERT_INT_EQ(parse(text, &t), -1);
	ASSERT_STR_EQ(err, "invalid UTF-8 at byte 13");
	/* Cut off by the end of input in the middle of a character. */
	cjk_run(text, sizeof(text), 6, "\xe6\x9d\xb1", "\xe6\x9d");
	ASSERT_INT_EQ(parse(text, &t), -1);
	ASSERT_STR_EQ(err, "invalid UTF-8 at byte 19");
	cjk_run(text, sizeof(text), 6, "\xe6\x9d\xb1", "");
	ASSERT_INT_EQ(parse(text, &t), -1);
	ASSERT_STR_EQ(err, "unexpected end of input at byte 19");
}

static void not_nul_terminated(void)
{
	const char text[] = "[1,2]xyz";
	cJSON *t = NULL;

	ASSERT_INT_EQ(json_parse_strict(text, 5, 4, &t, err, sizeof(err)), 0);
	ASSERT_INT_EQ(cJSON_GetArraySize(t), 2);
	cJSON_Delete(t);
	ASSERT_INT_EQ(json_parse_strict(text, 6, 4, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "trailing data at byte 5");
	/* A value cut by len mid-token is incomplete, whatever the byte after it. */
	ASSERT_INT_EQ(json_parse_strict("truely", 3, 4, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "unexpected end of input at byte 3");
	ASSERT_INT_EQ(json_parse_strict("\"ab\"", 3, 4, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "unexpected end of input at byte 3");
}

static void empty_input(void)
{
	cJSON *t = (cJSON *)1;

	ASSERT_INT_EQ(json_parse_strict(NULL, 0, 4, &t, err, sizeof(err)), -1);
	ASSERT(t == NULL);
	ASSERT_STR_EQ(err, "empty input");
	REFUSED("", "empty input");
	REFUSED(" \r\n\t ", "empty input");
}

static void unexpected_character(void)
{
	REFUSED("[1 2]", "unexpected character '2' at byte 3");
	REFUSED("{\"a\" 1}", "unexpected character '1' at byte 5");
	REFUSED("{1:2}", "unexpected character '1' at byte 1");
	REFUSED("[1,]", "unexpected character ']' at byte 3");
	REFUSED("{\"a\":1,}", "unexpected character '}' at byte 7");
	REFUSED("[1}", "unexpected character '}' at byte 2");
	REFUSED("{\"a\":1]", "unexpected character ']' at byte 6");
	REFUSED("[True]", "unexpected character 'T' at byte 1");
	REFUSED("[tru]", "unexpected character ']' at byte 4");
	REFUSED("[nulL]", "unexpected character 'L' at byte 4");
	REFUSED("'a'", "unexpected character ''' at byte 0");
	REFUSED("]", "unexpected character ']' at byte 0");
	REFUSED("[,1]", "unexpected character ',' at byte 1");
}

static void unexpected_byte(void)
{
	/* Form feed is not JSON white space; a BOM is not JSON at all. */
	REFUSED("[\f1]", "unexpected byte 0x0c at byte 1");
	REFUSED("\xef\xbb\xbf{}", "unexpected byte 0xef at byte 0");
	REFUSED("[\xc3\xa9]", "unexpected byte 0xc3 at byte 1");

	cJSON *t = NULL;
	ASSERT_INT_EQ(json_parse_strict("[\0]", 3, 4, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "unexpected byte 0x00 at byte 1");
}

static void numbers_refused(void)
{
	REFUSED("[01]", "unexpected character '1' at byte 2");
	REFUSED("-01", "unexpected character '1' at byte 2");
	REFUSED("[2.]", "unexpected character ']' at byte 3");
	REFUSED("[0.e1]", "unexpected character 'e' at byte 3");
	REFUSED("[.5]", "unexpected character '.' at byte 1");
	REFUSED("[-]", "unexpected character ']' at byte 2");
	REFUSED("[-a]", "unexpected character 'a' at byte 2");
	REFUSED("[1e]", "unexpected character ']' at byte 3");
	REFUSED("[1e+]", "unexpected character ']' at byte 4");
	REFUSED("[+1]", "unexpected character '+' at byte 1");
	REFUSED("[0x1]", "unexpected character 'x' at byte 2");
	REFUSED("1e", "unexpected end of input at byte 2");
	REFUSED("12 3", "trailing data at byte 3");
}

static void number_out_of_range(void)
{
	REFUSED("1e999", "number out of range at byte 0");
	REFUSED("[1, -1e400]", "number out of range at byte 4");
	REFUSED("{\"a\": {\"b\": [0, \"1e999\", 2e308]}}", "number out of range at byte 25");
	/* The first problem in the text wins, whichever kind it is. */
	REFUSED("[{\"a\":1,\"a\":2}, 1e999]", "duplicate key \"a\" in object at byte 8");
	REFUSED("[1e999, {\"a\":1,\"a\":2}]", "number out of range at byte 1");
}

static void end_of_input(void)
{
	REFUSED("[", "unexpected end of input at byte 1");
	REFUSED("[1,", "unexpected end of input at byte 3");
	REFUSED("{\"a\"", "unexpected end of input at byte 4");
	REFUSED("{\"a\":", "unexpected end of input at byte 5");
	REFUSED("{\"a\":1 ", "unexpected end of input at byte 7");
	REFUSED("\"abc", "unexpected end of input at byte 4");
	REFUSED("\"abc\\", "unexpected end of input at byte 5");
	REFUSED("\"\\u12", "unexpected end of input at byte 5");
	REFUSED("-", "unexpected end of input at byte 1");
	REFUSED("1.", "unexpected end of input at byte 2");
	REFUSED("fals", "unexpected end of input at byte 4");
}

static void trailing_data(void)
{
	REFUSED("{} {}", "trailing data at byte 3");
	REFUSED("[1]]", "trailing data at byte 3");
	REFUSED("\"a\"x", "trailing data at byte 3");
	REFUSED("truex", "trailing data at byte 4");
	REFUSED("1 \f", "trailing data at byte 2");
}

static void duplicate_keys(void)
{
	REFUSED("{\"a\":1,\"a\":2}", "duplicate key \"a\" in object at byte 7");
	/* Keys compare after unescaping. */
	REFUSED("{\"ab\":1, \"b\":2, \"\\u0061b\":3}", "duplicate key \"ab\" in object at byte 16");
	REFUSED("[[], {\"x\": {\"k\": 1, \"k\": {}}}]", "duplicate key \"k\" in object at byte 20");
	/* A key shown in a message is escaped. */
	REFUSED("{\"a\\n\\\"\":1,\"a\\n\\\"\":2}",
		"duplicate key \"a\\x0a\\x22\" in object at byte 11");

	cJSON *t = NULL;
	/* The same key in different objects is fine, and keys differ by case. */
	ASSERT_INT_EQ(parse("[{\"a\":1},{\"a\":2,\"A\":3}]", &t), 0);
	cJSON_Delete(t);
}

static void duplicate_long_key_cut(void)
{
	char text[256], want[256];
	const char *key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"; /* 46 bytes */

	ASSERT(snprintf(text, sizeof(text), "{\"%s\":1,\"%s\":2}", key, key) > 0);
	ASSERT(snprintf(want, sizeof(want),
			"duplicate key \"%.40s...\" in object at byte 52", key) > 0);
	REFUSED(text, want);
	/* The cut never splits a character: 39 ASCII bytes then a 2-byte one. */
	ASSERT(snprintf(text, sizeof(text), "{\"%.39s\xc3\xa9xyz\":1,\"%.39s\xc3\xa9xyz\":2}",
			key, key) > 0);
	ASSERT(snprintf(want, sizeof(want),
			"duplicate key \"%.39s\xc3\xa9...\" in object at byte 50", key) > 0);
	REFUSED(text, want);
}

static void duplicate_keys_scoped(void)
{
	cJSON *t = NULL;

	/* Each object has its own keys: an inner one's are gone once it closes. */
	ASSERT_INT_EQ(parse("{\"a\":{\"a\":1,\"b\":2},\"b\":{\"a\":3}}", &t), 0);
	cJSON_Delete(t);
	REFUSED("{\"a\":{\"b\":1},\"a\":2}", "duplicate key \"a\" in object at byte 13");
	REFUSED("{\"a\":{\"b\":{}},\"c\":[{\"b\":1}],\"b\":2,\"c\":3}",
		"duplicate key \"c\" in object at byte 34");
	/* Keys around 8 and 16 bytes, non-ASCII, empty, and a raw key equal to an escaped one. */
	REFUSED("{\"abcdefgh\":1,\"abcdefg\":2,\"abcdefgh\":3}",
		"duplicate key \"abcdefgh\" in object at byte 26");
	REFUSED("{\"applicationName\":1,\"applicationNamf\":2,\"applicationName\":3}",
		"duplicate key \"applicationName\" in object at byte 41");
	REFUSED("{\"deviceProfileName\":1,\"deviceProfileNamf\":2,\"deviceProfileName\":3}",
		"duplicate key \"deviceProfileName\" in object at byte 45");
	REFUSED("{\"\xc3\xa9t\xc3\xa9\":1,\"\xc3\xa9t\xc3\xa9\":2}",
		"duplicate key \"\xc3\xa9t\xc3\xa9\" in object at byte 11");
	REFUSED("{\"\":1,\"\":2}", "duplicate key \"\" in object at byte 6");
	REFUSED("{\"a\\/b\":1,\"a/b\":2}", "duplicate key \"a/b\" in object at byte 10");
	REFUSED("{\"x\":1,\"y\":2,\"x\"   :3}", "duplicate key \"x\" in object at byte 13");
}

/* {"a":{"a":...{"k":1,"k":2}...}} nested n deep (or "k":1 alone if !dup); caller frees. */
static char *nested_objects(int n, int dup)
{
	const char *inner = dup ? "{\"k\":1,\"k\":2}" : "{\"k\":1}";
	size_t cap = (size_t)n * 6 + 16, o = 0;
	char *text = malloc(cap);

	if (text == NULL)
		return NULL;
	for (int i = 0; i < n; i++, o += 5)
		memcpy(text + o, "{\"a\":", 5);
	memcpy(text + o, inner, strlen(inner));
	o += strlen(inner);
	memset(text + o, '}', (size_t)n);
	text[o + (size_t)n] = '\0';
	return text;
}

static void duplicate_keys_deep(void)
{
	char want[64];
	cJSON *t = NULL;
	char *text = nested_objects(300, 0);
	int rc;

	/* More open objects than the validator keeps keys for: the tree decides. */
	ASSERT(text != NULL);
	rc = json_parse_strict(text, strlen(text), 1000, &t, err, sizeof(err));
	cJSON_Delete(t);
	free(text);
	ASSERT_INT_EQ(rc, 0);
	text = nested_objects(300, 1);
	ASSERT(text != NULL);
	rc = json_parse_strict(text, strlen(text), 1000, &t, err, sizeof(err));
	free(text);
	ASSERT_INT_EQ(rc, -1);
	ASSERT(snprintf(want, sizeof(want), "duplicate key \"k\" in object at byte %d",
			300 * 5 + 7) > 0);
	ASSERT_STR_EQ(err, want);
}

static void number_range_edges(void)
{
	char text[400];
	cJSON *t = NULL;

	/* In range however written: only long exponents or integer parts can overflow. */
	ASSERT_INT_EQ(parse("[1e99, 1e100, -1e308, 1e-400, 1E+0099, 1.7976931348623157e308,"
			    " 0.000000000000000000000000000000001e330]",
			    &t),
		      0);
	cJSON_Delete(t);
	REFUSED("[1e309]", "number out of range at byte 1");
	REFUSED("[0, 1.7976931348623159e308]", "number out of range at byte 4");
	memset(text, '9', 309);
	text[309] = '\0';
	REFUSED(text, "number out of range at byte 0");
	text[308] = '\0';
	ASSERT_INT_EQ(parse(text, &t), 0);
	cJSON_Delete(t);
}

/* Builds {"k0":0,...,"k<n-1>":n-1} with the key of member dup_at repeating member dup_of. */
static char *big_object(int n, int dup_at, int dup_of)
{
	size_t cap = (size_t)n * 24 + 8, o = 0;
	char *text = malloc(cap);

	if (text == NULL)
		return NULL;
	text[o++] = '{';
	for (int i = 0; i < n; i++) {
		int k = i == dup_at ? dup_of : i;
		int w = snprintf(text + o, cap - o, "%s\"k%d\":%d", i ? "," : "", k, i);
		if (w < 0 || (size_t)w >= cap - o) {
			free(text);
			return NULL;
		}
		o += (size_t)w;
	}
	memcpy(text + o, "}", 2);
	return text;
}

/* Parses big_object(n, dup_at, dup_of); returns the result, -9 if it cannot be built. */
static int parse_big(int n, int dup_at, int dup_of)
{
	char *text = big_object(n, dup_at, dup_of);
	cJSON *t = NULL;
	int rc;

	if (text == NULL)
		return -9;
	rc = parse(text, &t);
	cJSON_Delete(t);
	free(text);
	return rc;
}

static void duplicate_keys_large_object(void)
{
	char *text;
	cJSON *t = NULL;

	/* Many keys, so the sorting path; all distinct. */
	text = big_object(1000, -1, -1);
	ASSERT(text != NULL);
	ASSERT_INT_EQ(parse(text, &t), 0);
	ASSERT_INT_EQ(cJSON_GetArraySize(t), 1000);
	cJSON_Delete(t);
	free(text);
	/* Member 700 repeats member 3; the message points at member 700's key. */
	text = big_object(1000, 700, 3);
	ASSERT(text != NULL);
	const char *at = strstr(text, ",\"k3\":700");
	ASSERT(at != NULL);
	char want[128];
	ASSERT(snprintf(want, sizeof(want), "duplicate key \"k3\" in object at byte %zu",
			(size_t)(at + 1 - text)) > 0);
	REFUSED(text, want);
	free(text);
	/* Around the small-object limit (64 keys), the repeat last or first. */
	for (int n = 62; n <= 67; n++) {
		ASSERT_INT_EQ(parse_big(n, 1, 0), -1);
		ASSERT_STR_EQ(err, "duplicate key \"k0\" in object at byte 8");
		ASSERT_INT_EQ(parse_big(n, n - 1, n - 2), -1);
		ASSERT_STR_CONTAINS(err, "duplicate key");
		ASSERT_INT_EQ(parse_big(n, -1, -1), 0);
	}
}

/*
 * A copy of json_strict.c's key_hash, for keys shorter than 8 bytes, and the hash-set
 * slot it picks for n keys. If the original changes, the test below still passes but no
 * longer drives the sorting fallback; check with gcov.
 */
static uint32_t slot_of(const char *k, int n)
{
	size_t len = strlen(k), cap = 64;
	uint64_t h = len * 0x9e3779b97f4a7c15ULL, w = 0;

	for (size_t i = 0; i < len; i++)
		w = w << 8 | (unsigned char)k[i];
	h = (h ^ w) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	while (cap < 2 * (size_t)n)
		cap *= 2;
	return (uint32_t)(h >> 32) >> 8 & (uint32_t)(cap - 1);
}

/*
 * An object of n keys that all land in one hash-set slot, as chosen keys from a hostile
 * payload could, so the set overflows its probe budget and the sort takes over. Sized for
 * n + 1 keys, so one more member may repeat a key.
 */
static char *colliding_object(int n)
{
	size_t cap = (size_t)n * 16 + 64, o = 0;
	char *text = malloc(cap), key[16];
	int found = 0;

	if (text == NULL)
		return NULL;
	text[o++] = '{';
	for (long i = 0; found < n && i < 100000000; i++) {
		if (snprintf(key, sizeof(key), "k%ld", i) < 0 || slot_of(key, n + 1) != 0)
			continue;
		int w = snprintf(text + o, cap - o, "%s\"%s\":%d", found ? "," : "", key, found);
		if (w < 0 || (size_t)w >= cap - o)
			break;
		o += (size_t)w;
		found++;
	}
	if (found < n) {
		free(text);
		return NULL;
	}
	memcpy(text + o, "}", 2);
	return text;
}

static void duplicate_keys_colliding_hashes(void)
{
	char *text = colliding_object(300), *dup = NULL, want[96];
	const char *key8 = text;
	size_t len, keylen = 0;
	cJSON *t = NULL;
	int rc = 0;

	ASSERT(text != NULL);
	ASSERT_INT_EQ(parse(text, &t), 0);
	ASSERT_INT_EQ(cJSON_GetArraySize(t), 300);
	cJSON_Delete(t);
	/* The same members, then the 8th key again. */
	for (int i = 0; i < 7 && key8 != NULL; i++)
		key8 = strstr(key8 + 1, ",\"");
	len = strlen(text);
	if (key8 != NULL) {
		keylen = strcspn(key8 + 2, "\"");
		dup = malloc(len + keylen + 16);
	}
	if (dup != NULL) {
		memcpy(dup, text, len - 1);
		rc = snprintf(dup + len - 1, keylen + 16, ",\"%.*s\":0}", (int)keylen, key8 + 2);
		if (rc > 0)
			rc = snprintf(want, sizeof(want),
				      "duplicate key \"%.*s\" in object at byte %zu", (int)keylen,
				      key8 + 2, len);
		if (rc > 0)
			rc = parse(dup, &t);
	}
	free(dup);
	free(text);
	ASSERT(dup != NULL);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_EQ(err, want);
}

static void nul_escape(void)
{
	REFUSED("[\"ab\\u0000\"]", "\\u0000 in string at byte 4");
	REFUSED("{\"\\u0000\":1}", "\\u0000 in string at byte 2");
}

static void surrogates(void)
{
	REFUSED("[\"\\ud800\"]", "unpaired surrogate \\ud800 at byte 2");
	REFUSED("[\"\\uDFAA\"]", "unpaired surrogate \\udfaa at byte 2");
	REFUSED("[\"\\ud800\\u0041\"]", "unpaired surrogate \\ud800 at byte 2");
	REFUSED("[\"\\ud800\\ud800\"]", "unpaired surrogate \\ud800 at byte 2");
	REFUSED("[\"\\ud800x\"]", "unpaired surrogate \\ud800 at byte 2");
	REFUSED("[\"\\udc00\\ud800\"]", "unpaired surrogate \\udc00 at byte 2");
	REFUSED("[\"\\ud800\\u00g0\"]", "invalid \\u escape at byte 8");
}

static void bad_escapes(void)
{
	REFUSED("[\"\\x\"]", "invalid escape character 'x' at byte 3");
	REFUSED("[\"\\\xc3\xa9\"]", "invalid escape byte 0xc3 at byte 3");
	REFUSED("[\"\\u12x4\"]", "invalid \\u escape at byte 2");
	REFUSED("[\"\\U1234\"]", "invalid escape character 'U' at byte 3");
	REFUSED("[\"\\'\"]", "invalid escape character ''' at byte 3");
}

static void control_characters(void)
{
	REFUSED("[\"a\nb\"]", "unescaped byte 0x0a in string at byte 3");
	REFUSED("[\"\t\"]", "unescaped byte 0x09 in string at byte 2");
	REFUSED("\"\x1f\"", "unescaped byte 0x1f in string at byte 1");

	cJSON *t = NULL;
	ASSERT_INT_EQ(json_parse_strict("\"a\0\"", 4, 4, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "unescaped byte 0x00 in string at byte 2");
	/* DEL is not a control character in JSON. */
	ASSERT_INT_EQ(parse("\"\x7f\"", &t), 0);
	cJSON_Delete(t);
}

static void invalid_utf8(void)
{
	REFUSED("[\"\xff\"]", "invalid UTF-8 at byte 2");
	REFUSED("[\"ab\x80\"]", "invalid UTF-8 at byte 4");
	REFUSED("[\"\xc0\xaf\"]", "invalid UTF-8 at byte 2");         /* overlong '/' */
	REFUSED("[\"\xe0\x80\xaf\"]", "invalid UTF-8 at byte 2");     /* overlong, 3 bytes */
	REFUSED("[\"\xed\xa0\x80\"]", "invalid UTF-8 at byte 2");     /* U+D800 */
	REFUSED("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8 at byte 2"); /* U+110000 */
	REFUSED("[\"\xf0\x80\x80\xaf\"]", "invalid UTF-8 at byte 2"); /* overlong, 4 bytes */
	REFUSED("[\"\xe2\x82\"]", "invalid UTF-8 at byte 2");         /* truncated */
	REFUSED("\"\xe2\x82", "invalid UTF-8 at byte 1");              /* truncated by the end */
	REFUSED("{\"k\xf5\x80\x80\x80\":1}", "invalid UTF-8 at byte 3");
}

static void utf8_validation(void)
{
	ASSERT_INT_EQ(utf8_invalid_at("", 0), -1);
	ASSERT_INT_EQ(utf8_invalid_at("plain ascii, longer than eight", 30), -1);
	ASSERT_INT_EQ(utf8_invalid_at("sixteen  bytes..", 16), -1);
	ASSERT_INT_EQ(utf8_invalid_at("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13),
		      -1);
	ASSERT_INT_EQ(utf8_invalid_at("\xed\x9f\xbf\xee\x80\x80", 6), -1); /* U+D7FF, U+E000 */
	ASSERT_INT_EQ(utf8_invalid_at("abcdefghij\xc3", 11), 10);
	ASSERT_INT_EQ(utf8_invalid_at("abcdefghij\xc3(", 12), 10);
	ASSERT_INT_EQ(utf8_invalid_at("a\xc1\xbf", 3), 1);
	ASSERT_INT_EQ(utf8_invalid_at("ab\xed\xbf\xbf", 5), 2);
	ASSERT_INT_EQ(utf8_invalid_at("\xf8\x88\x80\x80\x80", 5), 0);
	ASSERT_INT_EQ(utf8_invalid_at("\xf0\x9f\x98", 3), 0);
	/* A NUL byte is valid UTF-8; len, not the NUL, ends the text. */
	ASSERT_INT_EQ(utf8_invalid_at("a\0\xff", 3), 2);
}

static void nesting(void)
{
	char text[2100];
	cJSON *t = NULL;

	memset(text, '[', 32);
	memset(text + 32, ']', 32);
	ASSERT_INT_EQ(json_parse_strict(text, 64, 32, &t, err, sizeof(err)), 0);
	cJSON_Delete(t);
	memset(text, '[', 33);
	memset(text + 33, ']', 33);
	ASSERT_INT_EQ(json_parse_strict(text, 66, 32, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "nesting deeper than 32 at byte 32");
	ASSERT_INT_EQ(json_parse_strict("{\"a\":[{}]}", 10, 2, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "nesting deeper than 2 at byte 6");
	/* Depth 0 allows scalars only. */
	ASSERT_INT_EQ(json_parse_strict("7", 1, 0, &t, err, sizeof(err)), 0);
	cJSON_Delete(t);
	ASSERT_INT_EQ(json_parse_strict("[]", 2, 0, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "nesting deeper than 0 at byte 0");
	ASSERT_INT_EQ(json_parse_strict("[]", 2, -3, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "nesting deeper than 0 at byte 0");
	/* Past cJSON's own limit the limit is cJSON's, so the tree can always be built. */
	memset(text, '[', 1001);
	ASSERT_INT_EQ(json_parse_strict(text, 1001, 5000, &t, err, sizeof(err)), -1);
	ASSERT_STR_EQ(err, "nesting deeper than 1000 at byte 1000");
	memset(text, '[', 1000);
	memset(text + 1000, ']', 1000);
	ASSERT_INT_EQ(json_parse_strict(text, 2000, 5000, &t, err, sizeof(err)), 0);
	cJSON_Delete(t);
}

static void small_error_buffer(void)
{
	char small[8];
	cJSON *t = NULL;

	ASSERT_INT_EQ(json_parse_strict("[1,]", 4, 4, &t, small, sizeof(small)), -1);
	ASSERT_STR_EQ(small, "unexpec");
	ASSERT_INT_EQ(json_parse_strict("[1,]", 4, 4, &t, NULL, 0), -1);
	ASSERT(t == NULL);
}

/* An allocator that fails after a budget, to reach the out-of-memory paths. */
static int alloc_budget;

static void *failing_malloc(size_t n)
{
	if (alloc_budget-- <= 0)
		return NULL;
	return malloc(n);
}

static void out_of_memory(void)
{
	cJSON_Hooks hooks = {failing_malloc, free};
	int rc[16], first_ok = -1;
	cJSON *t = NULL;

	/* Every budget short of what the tree needs fails cleanly (ASan checks for leaks). */
	cJSON_InitHooks(&hooks);
	for (int budget = 0; budget < 16 && first_ok < 0; budget++) {
		alloc_budget = budget;
		rc[budget] = parse("{\"a\":[1,\"x\"],\"b\":{}}", &t);
		if (rc[budget] == 0)
			first_ok = budget;
	}
	cJSON_InitHooks(NULL);
	cJSON_Delete(t);
	ASSERT(first_ok > 0);
	for (int budget = 0; budget < first_ok; budget++)
		ASSERT_INT_EQ(rc[budget], -2);

	cJSON_InitHooks(&hooks);
	alloc_budget = 0;
	rc[0] = parse("[1]", &t);
	cJSON_InitHooks(NULL);
	ASSERT_INT_EQ(rc[0], -2);
	ASSERT(t == NULL);
	ASSERT_STR_EQ(err, "out of memory");
}

/*
 * Valid JSON that json_strict.h refuses by design: duplicate keys and \u0000. Each must be
 * refused for exactly that reason; every other y_ file must be accepted.
 */
static const char *const refused_by_design[][2] = {
	{"y_object_duplicated_key.json", "duplicate key \"a\" in object at byte 9"},
	{"y_object_duplicated_key_and_value.json", "duplicate key \"a\" in object at byte 9"},
	{"y_object_escaped_null_in_key.json", "\\u0000 in string at byte 5"},
	{"y_string_null_escape.json", "\\u0000 in string at byte 2"},
};

static const char *design_reason(const char *name)
{
	size_t n = sizeof(refused_by_design) / sizeof(refused_by_design[0]);

	for (size_t i = 0; i < n; i++)
		if (strcmp(refused_by_design[i][0], name) == 0)
			return refused_by_design[i][1];
	return NULL;
}

/* One JSONTestSuite file: y_ accepted, n_ refused with a reason, i_ either, never a crash. */
static int check_suite_file(const char *dir, const char *name)
{
	char path[1024], reason[256] = "";
	size_t len = 0;
	cJSON *t = NULL;
	char *data;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	data = fixture_read_file(path, &len);
	if (data == NULL) {
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	rc = json_parse_strict(data, len, 100, &t, reason, sizeof(reason));
	cJSON_Delete(t);
	free(data);
	if (design_reason(name) != NULL) {
		if (rc == -1 && strcmp(reason, design_reason(name)) == 0)
			return 1;
		fprintf(stderr, "%s: expected \"%s\", got %d \"%s\"\n", name,
			design_reason(name), rc, reason);
		return -1;
	}
	if (name[0] == 'y' && rc != 0) {
		fprintf(stderr, "%s: refused: %s\n", name, reason);
		return -1;
	}
	if (name[0] == 'n' && (rc != -1 || reason[0] == '\0')) {
		fprintf(stderr, "%s: accepted\n", name);
		return -1;
	}
	if (rc != 0 && rc != -1) {
		fprintf(stderr, "%s: returned %d\n", name, rc);
		return -1;
	}
	return 0;
}

static void json_test_suite(void)
{
	char dir[1024];
	struct dirent *e;
	int files = 0, bad = 0, by_design = 0, rc;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/tests/corpus/jsontestsuite/test_parsing",
		     fixture_repo()) >= (int)sizeof(dir))
		TEST_FAIL_AT("path too long");
	d = opendir(dir);
	if (d == NULL)
		TEST_FAIL_AT("cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 ||
		    strchr("yni", e->d_name[0]) == NULL || e->d_name[1] != '_')
			continue;
		files++;
		rc = check_suite_file(dir, e->d_name);
		bad += rc < 0;
		by_design += rc > 0;
	}
	closedir(d);
	ASSERT_INT_EQ(bad, 0);
	ASSERT_INT_EQ(by_design, (int)(sizeof(refused_by_design) / sizeof(refused_by_design[0])));
	/* 95 y_, 188 n_ and 35 i_ files: make sure the directory was really there. */
	ASSERT(files >= 300);
}

static const struct test_case cases[] = {
	{"accepts_values", accepts_values},
	{"accepts_scalars", accepts_scalars},
	{"accepts_unicode", accepts_unicode},
	{"long_strings_and_numbers", long_strings_and_numbers},
	{"accepts_cjk_runs", accepts_cjk_runs},
	{"refuses_bad_cjk_runs", refuses_bad_cjk_runs},
	{"not_nul_terminated", not_nul_terminated},
	{"empty_input", empty_input},
	{"unexpected_character", unexpected_character},
	{"unexpected_byte", unexpected_byte},
	{"numbers_refused", numbers_refused},
	{"number_out_of_range", number_out_of_range},
	{"end_of_input", end_of_input},
	{"trailing_data", trailing_data},
	{"duplicate_keys", duplicate_keys},
	{"duplicate_long_key_cut", duplicate_long_key_cut},
	{"duplicate_keys_scoped", duplicate_keys_scoped},
	{"duplicate_keys_deep", duplicate_keys_deep},
	{"number_range_edges", number_range_edges},
	{"duplicate_keys_large_object", duplicate_keys_large_object},
	{"duplicate_keys_colliding_hashes", duplicate_keys_colliding_hashes},
	{"nul_escape", nul_escape},
	{"surrogates", surrogates},
	{"bad_escapes", bad_escapes},
	{"control_characters", control_characters},
	{"invalid_utf8", invalid_utf8},
	{"utf8_validation", utf8_validation},
	{"nesting", nesting},
	{"small_error_buffer", small_error_buffer},
	{"out_of_memory", out_of_memory},
	{"json_test_suite", json_test_suite},
	{NULL, NULL},
};

TEST_MAIN(cases)
