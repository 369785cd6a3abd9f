/* The normalizer: every format and feature, and every reject reason. */
#include <pthread.h>
#include <stdlib.h>

#include "fixture.h"
#include "normalizer/normalize.h"
#include "normalizer/timefmt.h"
#include "test.h"

#define AQ FIXTURE_AIR_QUALITY
#define RECEIVED 1795251600000LL /* 2026-11-21T09:00:00Z */

#define SRC_JSON FIXTURE_ACME_SOURCE


static const char *const SRC_BATCH =
	"source: batchy\n"
	"standard: air-quality\n"
	"topic: city/batchy/#\n"
	"format: json-batch\n"
	"batch: data.items\n"
	"device: {path: $.gateway.id}\n"
	"time: {path: [at, when], as: iso8601}\n"
	"fields:\n"
	"  pm25: pm\n"
	"  location: {geojson: loc}\n";

/* A vendor whose clocks write local time without an offset (Seoul, no daylight saving). */
static const char *const SRC_ZONE =
	"source: localclock\n"
	"standard: air-quality\n"
	"topic: city/localclock/+\n"
	"format: json\n"
	"device: {topic: 3}\n"
	"time: {path: at, as: iso8601, zone: \"+09:00\"}\n"
	"fields: {pm25: pm}\n";

static const char *const SRC_SENML =
	"source: senml-aq\n"
	"standard: air-quality\n"
	"topic: city/senml-aq/+\n"
	"format: senml\n"
	"device: {path: bn}\n"
	"fields:\n"
	"  pm25: pm25\n"
	"  temperature: temp\n"
	"  humidity: hum\n"
	"  window_open: win\n";

static const char *const SRC_SCALAR =
	"source: box\n"
	"standard: air-quality\n"
	"topic: city/box/+/+\n"
	"format: scalar\n"
	"device: {topic: 3}\n"
	"field: {topic: 4}\n"
	"fields:\n"
	"  pm25: pm\n"
	"  state: {path: st, map: {0: ok, 1: fault}}\n"
	"  temperature: {path: tf, unit: degF}\n";

struct run {
	struct norm_schema *schema;
	struct norm_result *result;
	int rc;
	char json[2048];
};

/* Normalizes payload on topic with a fresh schema of two sources; json holds the records
 * as JSON lines (or the reject reason). */
static void run_with(struct run *t, const char *src_a, const char *src_b, const char *topic,
		     const char *payload)
{
	struct norm_diags d = {0};
	struct norm_buf b = {0};

	memset(t, 0, sizeof(*t));
	t->schema = fixture_load(AQ, NULL, src_a, src_b, NULL, NULL, &d);
	if (t->schema == NULL) {
		snprintf(t->json, sizeof(t->json), "schema: %s", fixture_first(&d));
		t->rc = 99;
		diags_clear(&d);
		return;
	}
	t->result = norm_result_create();
	t->rc = norm_normalize(t->schema, NULL, topic, strlen(topic), payload, strlen(payload),
			       RECEIVED, t->result);
	if (t->rc == NORM_REJECT)
		snprintf(t->json, sizeof(t->json), "%s", norm_result_reason(t->result));
	for (size_t i = 0; t->rc == NORM_OK && i < norm_result_count(t->result); i++) {
		b.len = 0;
		norm_record_json(norm_result_record(t->result, i), &b);
		size_t used = strlen(t->json);
		snprintf(t->json + used, sizeof(t->json) - used, "%s%s", used ? "\n" : "", b.data);
	}
	norm_buf_free(&b);
}

static void run_free(struct run *t)
{
	norm_result_free(t->result);
	norm_schema_free(t->schema);
}

/* JSON and batch sources. */
static void run(struct run *t, const char *topic, const char *payload)
{
	run_with(t, SRC_JSON, SRC_BATCH, topic, payload);
}

/* SenML and scalar sources. */
static void run2(struct run *t, const char *topic, const char *payload)
{
	run_with(t, SRC_SENML, SRC_SCALAR, topic, payload);
}

#define EXPECT(runner, topic, payload, expected_rc, expected)                                \
	do {                                                                                \
		struct run t_;                                                              \
		runner(&t_, topic, payload);                                                \
		int rc_ = t_.rc;                                                            \
		char got_[2048];                                                            \
		snprintf(got_, sizeof(got_), "%s", t_.json);                                \
		run_free(&t_);                                                              \
		ASSERT_STR_EQ(got_, expected);                                              \
		ASSERT_INT_EQ(rc_, expected_rc);                                            \
	} while (0)

static void json_every_mapping(void)
{
	EXPECT(run, "city/acme-aq/aq-0042",
	       "{\"ts\":1795252200123,\"pm10\":20,\"data\":{\"pm25\":17.9},\"sensors\":[{\"co2\":415}],"
	       "\"temp_f\":70.52,\"win\":\"open\",\"st\":1,\"hum\":0.45,\"note\":\"hi \\\"x\\\"\","
	       "\"gps\":{\"lat\":37.5665,\"lon\":126.978}}",
	       NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"acme-aq\",\"device\":\"aq-0042\","
	       "\"time\":\"2026-11-21T09:10:00.123Z\",\"values\":{\"pm10\":20,\"pm25\":17.9,\"co2\":415,"
	       "\"temperature\":21.4,\"humidity\":45,\"window_open\":true,\"state\":\"fault\","
	       "\"note\":\"hi \\\"x\\\"\",\"location\":{\"lat\":37.5665,\"lon\":126.978}}}");
}

static void alternatives_first_present_wins(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm2_5\":null,\"pm25\":3,\"data\":{\"pm25\":9}}", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"acme-aq\",\"device\":\"a\","
	       "\"time\":\"1970-01-01T00:00:00.000Z\",\"values\":{\"pm25\":3}}");
}

static void hex_and_words_are_not_numbers(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":\"0x10\"}", NORM_REJECT,
	       "pm25: \"0x10\" is not a number");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":\"inf\"}", NORM_REJECT,
	       "pm25: \"inf\" is not a number");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":\" 5\"}", NORM_REJECT,
	       "pm25: \" 5\" is not a number");
}

static void conversion_dust_rounded(void)
{
	/* 0.57 * 100 is 56.99999999999999 in binary; 71.6 degF is 21.999999999999996 degC. */
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"hum\":0.57,\"temp_f\":71.6}", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"acme-aq\",\"device\":\"a\","
	       "\"time\":\"1970-01-01T00:00:00.000Z\",\"values\":{\"pm25\":1,\"temperature\":22,\"humidity\":57}}");
	/* Unconverted values keep every digit, printed shortest. */
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":43.46296641666926}", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"acme-aq\",\"device\":\"a\","
	       "\"time\":\"1970-01-01T00:00:00.000Z\",\"values\":{\"pm25\":43.46296641666926}}");
}

static void numbers_in_strings_accepted(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":\"1795252200000\",\"pm25\":\"12.5\"}", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"acme-aq\",\"device\":\"a\","
	       "\"time\":\"2026-11-21T09:10:00.000Z\",\"values\":{\"pm25\":12.5}}");
}

static void reject_above_range(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1200}", NORM_REJECT,
	       "pm25: 1200 is above the range 0..1000");
}

static void reject_below_range_after_conversion(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"temp_f\":-50}", NORM_REJECT,
	       "temperature: -45.5555555556 is below the range -40..85");
}

static void reject_missing_required(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm10\":1}", NORM_REJECT,
	       "pm25: required field is missing");
}

static void reject_not_json(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,}", NORM_REJECT,
	       "payload is not JSON: unexpected character '}' at byte 17");
}

static void reject_trailing_garbage(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1} x", NORM_REJECT,
	       "payload is not JSON: trailing data at byte 18");
}

static void reject_duplicate_key(void)
{
	struct run t;
	run(&t, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"pm25\":900}");
	ASSERT_INT_EQ(t.rc, NORM_REJECT);
	ASSERT_STR_CONTAINS(t.json, "payload is not JSON: duplicate key \"pm25\"");
	run_free(&t);
}

static void reject_no_source(void)
{
	EXPECT(run, "city/x/y", "{}", NORM_REJECT, "no source matches topic city/x/y");
}

static void reject_not_an_object(void)
{
	EXPECT(run, "city/acme-aq/a", "[1,2]", NORM_REJECT, "payload is not a JSON object (it is an array)");
}

static void reject_unmapped_value(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"st\":7}", NORM_REJECT,
	       "state: 7 is not in the source's map");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"win\":\"ajar\"}", NORM_REJECT,
	       "window_open: \"ajar\" is not in the source's map");
}

static void reject_wrong_type(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":\"lots\"}", NORM_REJECT,
	       "pm25: \"lots\" is not a number");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":true}", NORM_REJECT,
	       "pm25: true is not a number");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":{\"v\":1}}", NORM_REJECT,
	       "pm25: expected a value, got an object");
}

static void reject_integer_fraction(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"sensors\":[{\"co2\":415.5}]}", NORM_REJECT,
	       "co2: 415.5 is not a whole number");
}

static void reject_long_string(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"note\":\"\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\"}",
	       NORM_REJECT, "note: 11 characters, more than the maximum 10");
	/* Ten Hangul syllables are ten characters (30 bytes): accepted. */
	struct run t;
	run(&t, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"note\":\"\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\"}");
	ASSERT_INT_EQ(t.rc, NORM_OK);
	run_free(&t);
}

static void reject_bad_time(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"pm25\":1}", NORM_REJECT, "time: not found at ts");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":-5,\"pm25\":1}", NORM_REJECT,
	       "time: -5 is not a plausible unix_ms time");
	EXPECT(run, "city/batchy/gw", "{\"gateway\":{\"id\":\"g\"},\"data\":{\"items\":[{\"at\":\"2020-0327T10:00\",\"pm\":1}]}}",
	       NORM_REJECT, "record 0: time: \"2020-0327T10:00\" is not ISO 8601");
}

static void reject_geo_out_of_range(void)
{
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"gps\":{\"lat\":123,\"lon\":1}}", NORM_REJECT,
	       "location: latitude 123 is outside -90..90");
	EXPECT(run, "city/acme-aq/a", "{\"ts\":0,\"pm25\":1,\"gps\":{\"lat\":1}}", NORM_REJECT,
	       "location: has lat but no lon");
}

static void reject_bad_device(void)
{
	EXPECT(run, "city/batchy/gw", "{\"gateway\":{\"id\":\"a+b\"},\"data\":{\"items\":[{\"at\":\"2026-11-21T09:10:00Z\",\"pm\":1}]}}",
	       NORM_REJECT, "record 0: device: \"a+b\" may not hold '/', '+', '#' or control characters");
	EXPECT(run, "city/batchy/gw", "{\"gateway\":{},\"data\":{\"items\":[{\"at\":\"2026-11-21T09:10:00Z\",\"pm\":1}]}}",
	       NORM_REJECT, "record 0: device: not found at gateway.id");
}

static void zone_for_times_without_offset(void)
{
	struct run t;
	run_with(&t, SRC_ZONE, NULL, "city/localclock/a", "{\"at\":\"2026-11-21T18:10:00\",\"pm\":1}");
	ASSERT_STR_CONTAINS(t.json, "\"time\":\"2026-11-21T09:10:00.000Z\"");
	run_free(&t);
	/* An explicit offset still wins over the declared zone. */
	run_with(&t, SRC_ZONE, NULL, "city/localclock/a", "{\"at\":\"2026-11-21T09:10:00Z\",\"pm\":1}");
	ASSERT_STR_CONTAINS(t.json, "\"time\":\"2026-11-21T09:10:00.000Z\"");
	run_free(&t);
}

static void batch_with_root_paths_and_geojson(void)
{
	EXPECT(run, "city/batchy/gw/x",
	       "{\"gateway\":{\"id\":\"gw-7\"},\"data\":{\"items\":["
	       "{\"at\":\"2026-11-21T18:10:00+09:00\",\"pm\":5,\"loc\":{\"type\":\"Point\",\"coordinates\":[126.978,37.5665]}},"
	       "{\"when\":\"2026-11-21T09:11:00.5Z\",\"pm\":6}]}}",
	       NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"batchy\",\"device\":\"gw-7\",\"time\":\"2026-11-21T09:10:00.000Z\","
	       "\"values\":{\"pm25\":5,\"location\":{\"lat\":37.5665,\"lon\":126.978}}}\n"
	       "{\"standard\":\"air-quality\",\"source\":\"batchy\",\"device\":\"gw-7\",\"time\":\"2026-11-21T09:11:00.500Z\","
	       "\"values\":{\"pm25\":6}}");
}

static void batch_empty_and_wrong(void)
{
	EXPECT(run, "city/batchy/gw", "{\"data\":{\"items\":[]}}", NORM_REJECT,
	       "batch: the array is empty (no records)");
	EXPECT(run, "city/batchy/gw", "{\"data\":{\"items\":{}}}", NORM_REJECT,
	       "batch: expected a JSON array of records");
	EXPECT(run, "city/batchy/gw", "{\"data\":{}}", NORM_REJECT, "batch: not found at data.items");
}

static void senml_pack_grouped_by_time(void)
{
	EXPECT(run2, "city/senml-aq/x",
	       "[{\"bn\":\"urn:dev:aq-9:\",\"bt\":1795252200,\"n\":\"temp\",\"u\":\"Cel\",\"v\":21.5},"
	       "{\"n\":\"pm25\",\"u\":\"ug/m3\",\"v\":12},{\"n\":\"hum\",\"u\":\"%RH\",\"v\":40},"
	       "{\"n\":\"pm25\",\"v\":13,\"t\":60},{\"n\":\"win\",\"vb\":true,\"t\":60},{\"n\":\"other\",\"v\":1}]",
	       NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"senml-aq\",\"device\":\"urn:dev:aq-9\",\"time\":\"2026-11-21T09:10:00.000Z\","
	       "\"values\":{\"pm25\":12,\"temperature\":21.5,\"humidity\":40}}\n"
	       "{\"standard\":\"air-quality\",\"source\":\"senml-aq\",\"device\":\"urn:dev:aq-9\",\"time\":\"2026-11-21T09:11:00.000Z\","
	       "\"values\":{\"pm25\":13,\"window_open\":true}}");
}

static void senml_units_converted(void)
{
	EXPECT(run2, "city/senml-aq/x",
	       "[{\"bn\":\"d1/\",\"bt\":1795252200,\"n\":\"pm25\",\"v\":1},{\"n\":\"temp\",\"u\":\"K\",\"v\":300.15}]",
	       NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"senml-aq\",\"device\":\"d1\",\"time\":\"2026-11-21T09:10:00.000Z\","
	       "\"values\":{\"pm25\":1,\"temperature\":27}}");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d1\",\"n\":\"pm25\",\"v\":1},{\"n\":\"temp\",\"u\":\"W\",\"v\":3}]",
	       NORM_REJECT, "record 1: temperature: unit W cannot convert to degC");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d1\",\"n\":\"temp\",\"u\":\"zorks\",\"v\":3}]",
	       NORM_REJECT, "record 0: temperature: SenML unit \"zorks\" is not known");
}

static void senml_relative_time_and_base_value(void)
{
	/* bt absent, t = -60: a minute before the receive time; bv shifts v. */
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d2\",\"bv\":10,\"n\":\"pm25\",\"v\":2,\"t\":-60}]", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"senml-aq\",\"device\":\"d2\",\"time\":\"2026-11-21T08:59:00.000Z\","
	       "\"values\":{\"pm25\":12}}");
}

static void senml_rejects(void)
{
	EXPECT(run2, "city/senml-aq/x", "{\"n\":\"pm25\"}", NORM_REJECT,
	       "payload is not a SenML pack (a JSON array of records)");
	EXPECT(run2, "city/senml-aq/x", "[{\"n\":\"pm25\",\"v\":1}]", NORM_REJECT,
	       "record 0: device: the pack has no base name (bn)");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d\",\"n\":\"zz\",\"v\":1}]", NORM_REJECT,
	       "no record in the SenML pack has a name this source maps");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d\",\"n\":\"pm25\",\"v\":\"1\"}]", NORM_REJECT,
	       "record 0: SenML field \"v\" must be a number");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d\",\"n\":\"pm25\",\"v\":1,\"crit_\":1}]", NORM_REJECT,
	       "record 0: SenML field \"crit_\" must be understood and is not supported");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d\",\"n\":\"temp\",\"v\":1}]", NORM_REJECT,
	       "pm25: required field is missing");
	EXPECT(run2, "city/senml-aq/x", "[{\"bn\":\"d\",\"n\":\"pm25\",\"v\":1},{\"n\":\"pm25\",\"v\":2}]",
	       NORM_REJECT, "record 1: pm25: given twice for device d at one time");
}

static void scalar_values(void)
{
	EXPECT(run2, "city/box/b-1/pm", " 42.5\n", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"box\",\"device\":\"b-1\",\"time\":\"2026-11-21T09:00:00.000Z\","
	       "\"values\":{\"pm25\":42.5}}");
	EXPECT(run2, "city/box/b-1/st", "1", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"box\",\"device\":\"b-1\",\"time\":\"2026-11-21T09:00:00.000Z\","
	       "\"values\":{\"state\":\"fault\"}}");
	EXPECT(run2, "city/box/b-1/tf", "\"50\"", NORM_OK,
	       "{\"standard\":\"air-quality\",\"source\":\"box\",\"device\":\"b-1\",\"time\":\"2026-11-21T09:00:00.000Z\","
	       "\"values\":{\"temperature\":10}}");
}

static void scalar_rejects(void)
{
	EXPECT(run2, "city/box/b-1/lid", "1", NORM_REJECT, "topic level 4 \"lid\" is not a field this source maps");
	EXPECT(run2, "city/box/b-1/pm", "", NORM_REJECT, "payload is empty: a scalar source expects one value");
	EXPECT(run2, "city/box/b-1/pm", "many", NORM_REJECT, "pm25: \"many\" is not a number");
	EXPECT(run2, "city/box/b-1/tf", "500", NORM_REJECT, "temperature: 260 is above the range -40..85");
}

static void payload_limits(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(AQ, NULL, SRC_JSON, NULL, NULL, NULL, &d);
	struct norm_result *r = norm_result_create();
	struct norm_limits l = norm_limits_default();
	char deep[100];

	ASSERT(s != NULL && r != NULL);
	l.max_payload = 10;
	ASSERT_INT_EQ(norm_normalize(s, &l, "city/acme-aq/a", 14, "{\"ts\":0,\"pm25\":1}", 17, 0, r), NORM_REJECT);
	ASSERT_STR_EQ(norm_result_reason(r), "payload is 17 bytes, more than the limit of 10");
	memset(deep, '[', 40);
	ASSERT_INT_EQ(norm_normalize(s, NULL, "city/acme-aq/a", 14, deep, 40, 0, r), NORM_REJECT);
	ASSERT_STR_CONTAINS(norm_result_reason(r), "payload is not JSON: nesting deeper than 32");
	ASSERT_INT_EQ(norm_normalize(s, NULL, "city/acme-aq/a", 14, "{\"ts\":0,\"pm25\":1e999}", 21, 0, r), NORM_REJECT);
	ASSERT_STR_CONTAINS(norm_result_reason(r), "payload is not JSON: number out of range");
	ASSERT_INT_EQ(norm_normalize(s, NULL, "city/acme-aq/a", 14, "{\"ts\":0,\"pm25\":1,\"note\":\"a\\u0000b\"}", 36, 0, r), NORM_REJECT);
	ASSERT_STR_CONTAINS(norm_result_reason(r), "payload is not JSON: \\u0000 in string");
	norm_result_free(r);
	norm_schema_free(s);
	diags_clear(&d);
}

static void result_is_reusable(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(AQ, NULL, SRC_JSON, NULL, NULL, NULL, &d);
	struct norm_result *r = norm_result_create();
	ASSERT(s != NULL && r != NULL);
	for (int i = 0; i < 1000; i++) {
		const char *p = i % 2 ? "{\"ts\":0,\"pm25\":1,\"note\":\"abc\"}" : "{\"ts\":0}";
		int rc = norm_normalize(s, NULL, "city/acme-aq/a", 14, p, strlen(p), 0, r);
		ASSERT_INT_EQ(rc, i % 2 ? NORM_OK : NORM_REJECT);
		ASSERT_INT_EQ(norm_result_count(r), i % 2 ? 1 : 0);
	}
	norm_result_free(r);
	norm_schema_free(s);
	diags_clear(&d);
}

struct worker {
	const struct norm_schema *schema;
	int mismatches;
};

/* Each thread has its own result; the schema is shared read-only. */
static void *normalize_many(void *arg)
{
	struct worker *w = arg;
	struct norm_result *r = norm_result_create();
	struct norm_buf b = {0};
	char payload[128], expected[64];
	for (int i = 0; r != NULL && i < 20000; i++) {
		snprintf(payload, sizeof(payload), "{\"ts\":%d,\"pm25\":%d,\"note\":\"n%d\"}", i, i % 900, i);
		snprintf(expected, sizeof(expected), "\"values\":{\"pm25\":%d,\"note\":\"n%d\"}}", i % 900, i);
		b.len = 0;
		if (norm_normalize(w->schema, NULL, "city/acme-aq/t", 14, payload, strlen(payload), 0, r) != NORM_OK ||
		    norm_record_json(norm_result_record(r, 0), &b) != NORM_OK || strstr(b.data, expected) == NULL)
			w->mismatches++;
	}
	norm_buf_free(&b);
	norm_result_free(r);
	return NULL;
}

static void threads_share_one_schema(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(AQ, NULL, SRC_JSON, NULL, NULL, NULL, &d);
	pthread_t t[4];
	struct worker w[4];
	ASSERT(s != NULL);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){s, 0};
		ASSERT_INT_EQ(pthread_create(&t[i], NULL, normalize_many, &w[i]), 0);
	}
	int mismatches = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		mismatches += w[i].mismatches;
	}
	ASSERT_INT_EQ(mismatches, 0);
	norm_schema_free(s);
}

static const struct test_case cases[] = {
	{"json_every_mapping", json_every_mapping},
	{"alternatives_first_present_wins", alternatives_first_present_wins},
	{"numbers_in_strings_accepted", numbers_in_strings_accepted},
	{"hex_and_words_are_not_numbers", hex_and_words_are_not_numbers},
	{"conversion_dust_rounded", conversion_dust_rounded},
	{"reject_above_range", reject_above_range},
	{"reject_below_range_after_conversion", reject_below_range_after_conversion},
	{"reject_missing_required", reject_missing_required},
	{"reject_not_json", reject_not_json},
	{"reject_trailing_garbage", reject_trailing_garbage},
	{"reject_duplicate_key", reject_duplicate_key},
	{"reject_no_source", reject_no_source},
	{"reject_not_an_object", reject_not_an_object},
	{"reject_unmapped_value", reject_unmapped_value},
	{"reject_wrong_type", reject_wrong_type},
	{"reject_integer_fraction", reject_integer_fraction},
	{"reject_long_string", reject_long_string},
	{"reject_bad_time", reject_bad_time},
	{"reject_geo_out_of_range", reject_geo_out_of_range},
	{"reject_bad_device", reject_bad_device},
	{"zone_for_times_without_offset", zone_for_times_without_offset},
	{"batch_with_root_paths_and_geojson", batch_with_root_paths_and_geojson},
	{"batch_empty_and_wrong", batch_empty_and_wrong},
	{"senml_pack_grouped_by_time", senml_pack_grouped_by_time},
	{"senml_units_converted", senml_units_converted},
	{"senml_relative_time_and_base_value", senml_relative_time_and_base_value},
	{"senml_rejects", senml_rejects},
	{"scalar_values", scalar_values},
	{"scalar_rejects", scalar_rejects},
	{"payload_limits", payload_limits},
	{"result_is_reusable", result_is_reusable},
	{"threads_share_one_schema", threads_share_one_schema},
	{NULL, NULL},
};

TEST_MAIN(cases)
