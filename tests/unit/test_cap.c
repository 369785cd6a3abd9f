/* CAP-shaped staff messages: the JSON shape with several languages, manual notices,
 * escaping (naughty strings round-trip), and headline placeholders. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "alerts/cap.h"
#include "fixture.h"
#include "test.h"

static const char *const RULES =
	"rules:\n"
	"  - id: pm25-high\n"
	"    standard: air-quality\n"
	"    when: pm25 > 75\n"
	"    severity: severe\n"
	"    notify: [env]\n"
	"    headline:\n"
	"      ko: \"초미세먼지 {pm25} ug/m3 ({device})\"\n"
	"      en: \"PM2.5 {pm25} ug/m3 at {device}, {location}\"\n"
	"    description: \"CO2 {co2} ppm, state {state}\"\n"
	"    instruction: Close the windows\n"
	"  - {id: plain, standard: air-quality, when: pm25 > 1, severity: minor, notify: [env]}\n";

struct fx {
	struct norm_schema *s;
	const struct norm_rule *pm, *plain;
	struct norm_value v[9];
	struct cap_message m;
	struct norm_buf out;
	cJSON *j;
};

static int fx_open(struct fx *f)
{
	struct norm_diags d = {0};
	size_t n;
	memset(f, 0, sizeof(*f));
	f->s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL, RULES, "groups: [env]\n", &d);
	if (f->s == NULL)
		fprintf(stderr, "fixture: %s\n", fixture_first(&d));
	diags_clear(&d);
	if (f->s == NULL)
		return -1;
	f->pm = &norm_schema_rules(f->s, &n)[0];
	f->plain = &norm_schema_rules(f->s, &n)[1];
	f->v[1] = (struct norm_value){.present = 1, .number = 80.5};
	f->v[2] = (struct norm_value){.present = 1, .integer = 415};
	f->v[6] = (struct norm_value){.present = 1, .enum_index = 1};
	f->m = (struct cap_message){.identifier = "pm25-high.aq-1.1", .sender = "citylink-alerts@a1",
				    .sent_ms = 1795252200123LL, .rule = f->pm, .device = "aq-1",
				    .source = "acme", .values = f->v, .time_ms = 1795252200000LL,
				    .has_location = 1, .lat = 37.5665, .lon = 126.978};
	return 0;
}

static void fx_close(struct fx *f)
{
	cJSON_Delete(f->j);
	norm_buf_free(&f->out);
	norm_schema_free(f->s);
}

/* Renders f->m and parses it back (the output must always be valid JSON). */
static int render(struct fx *f)
{
	cJSON_Delete(f->j);
	f->out.len = 0;
	if (cap_render(&f->m, &f->out) != CAP_OK)
		return -1;
	f->j = cJSON_ParseWithLength(f->out.data, f->out.len);
	if (f->j == NULL)
		fprintf(stderr, "not JSON: %s\n", f->out.data);
	return f->j != NULL ? 0 : -1;
}

static const char *str(const cJSON *j, const char *path)
{
	char key[64];
	const char *dot;
	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, atoi(key)) : cJSON_GetObjectItemCaseSensitive(j, key);
		path = dot + 1;
	}
	j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, atoi(path)) : cJSON_GetObjectItemCaseSensitive(j, path);
	return cJSON_IsString(j) ? j->valuestring : cJSON_IsNull(j) ? "(json null)" : NULL;
}

static void shape_with_two_languages(void)
{
	struct fx f;
	ASSERT(fx_open(&f) == 0);
	ASSERT(render(&f) == 0);
	ASSERT_STR_EQ(str(f.j, "identifier"), "pm25-high.aq-1.1");
	ASSERT_STR_EQ(str(f.j, "sender"), "citylink-alerts@a1");
	ASSERT_STR_EQ(str(f.j, "sent"), "2026-11-21T09:10:00.123Z");
	ASSERT_STR_EQ(str(f.j, "status"), "Actual");
	ASSERT_STR_EQ(str(f.j, "msgType"), "Alert");
	ASSERT_STR_EQ(str(f.j, "scope"), "Restricted");
	ASSERT_STR_EQ(str(f.j, "references"), "(json null)");
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(f.j, "info")), 2);
	ASSERT_STR_EQ(str(f.j, "info.0.language"), "ko");
	ASSERT_STR_EQ(str(f.j, "info.0.headline"), "초미세먼지 80.5 ug/m3 (aq-1)");
	ASSERT_STR_EQ(str(f.j, "info.1.language"), "en");
	ASSERT_STR_EQ(str(f.j, "info.1.headline"), "PM2.5 80.5 ug/m3 at aq-1, 37.5665,126.978");
	ASSERT_STR_EQ(str(f.j, "info.1.category.0"), "Env");
	ASSERT_STR_EQ(str(f.j, "info.1.event"), "pm25-high");
	ASSERT_STR_EQ(str(f.j, "info.1.urgency"), "Immediate");
	ASSERT_STR_EQ(str(f.j, "info.1.severity"), "Severe");
	ASSERT_STR_EQ(str(f.j, "info.1.certainty"), "Observed");
	ASSERT_STR_EQ(str(f.j, "info.1.description"), "CO2 415 ppm, state fault");
	ASSERT_STR_EQ(str(f.j, "info.0.instruction"), "Close the windows");
	ASSERT_STR_EQ(str(f.j, "info.0.area.areaDesc"), "aq-1");
	ASSERT_STR_EQ(str(f.j, "info.0.area.circle"), "37.5665,126.978 0");
	ASSERT_STR_EQ(str(f.j, "device"), "aq-1");
	ASSERT_STR_EQ(str(f.j, "standard"), "air-quality");
	ASSERT_STR_EQ(str(f.j, "values.state"), "fault");
	ASSERT_DBL_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(f.j, "values"), "pm25")->valuedouble, 80.5, 0);
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(f.j, "values")), 3);
	ASSERT_STR_EQ(str(f.j, "state"), "raised");
	ASSERT_STR_EQ(str(f.j, "acked_by"), "(json null)");
	ASSERT_STR_EQ(str(f.j, "acked_at"), "(json null)");
	ASSERT_INT_EQ(cJSON_GetObjectItem(f.j, "escalation_level")->valueint, 0);

	f.m.msg_type = CAP_UPDATE;
	f.m.references = "pm25-high.aq-1.0";
	f.m.state = "acknowledged";
	f.m.acked_by = "kim";
	f.m.acked_at_ms = 1795252260000LL;
	f.m.escalation_level = 2;
	f.m.has_location = 0;
	ASSERT(render(&f) == 0);
	ASSERT_STR_EQ(str(f.j, "msgType"), "Update");
	ASSERT_STR_EQ(str(f.j, "references"), "pm25-high.aq-1.0");
	ASSERT_STR_EQ(str(f.j, "acked_by"), "kim");
	ASSERT_STR_EQ(str(f.j, "acked_at"), "2026-11-21T09:11:00.000Z");
	ASSERT_INT_EQ(cJSON_GetObjectItem(f.j, "escalation_level")->valueint, 2);
	ASSERT(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(f.j, "info"), 0), "area") != NULL);
	ASSERT(str(f.j, "info.0.area.circle") == NULL);
	ASSERT_STR_EQ(str(f.j, "info.1.headline"), "PM2.5 80.5 ug/m3 at aq-1, unknown location");

	f.m.msg_type = CAP_CANCEL;
	f.m.state = "closed";
	ASSERT(render(&f) == 0);
	ASSERT_STR_EQ(str(f.j, "msgType"), "Cancel");
	ASSERT_STR_EQ(str(f.j, "info.0.urgency"), "Past");
	fx_close(&f);
}

static void rule_without_headline(void)
{
	struct fx f;
	ASSERT(fx_open(&f) == 0);
	f.m.rule = f.plain;
	ASSERT(render(&f) == 0);
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(f.j, "info")), 1);
	ASSERT(str(f.j, "info.0.language") == NULL);
	ASSERT_STR_EQ(str(f.j, "info.0.headline"), "plain at aq-1");
	ASSERT_STR_EQ(str(f.j, "info.0.severity"), "Minor");
	ASSERT_STR_EQ(str(f.j, "info.0.urgency"), "Expected");
	ASSERT(str(f.j, "info.0.description") == NULL);
	fx_close(&f);
}

static void manual_notice(void)
{
	struct fx f;
	ASSERT(fx_open(&f) == 0);
	f.m = (struct cap_message){.identifier = "notice.7", .sender = "citylink notify",
				   .sent_ms = 0, .severity = NORM_SEV_MODERATE,
				   .headline = "Road works {device} on Mapo-daero",
				   .description = "Lane 2 closed", .area_desc = "Mapo-gu"};
	ASSERT(render(&f) == 0);
	ASSERT_STR_EQ(str(f.j, "sent"), "1970-01-01T00:00:00.000Z");
	ASSERT_STR_EQ(str(f.j, "info.0.event"), "notice");
	ASSERT_STR_EQ(str(f.j, "info.0.headline"), "Road works {device} on Mapo-daero"); /* literal */
	ASSERT_STR_EQ(str(f.j, "info.0.description"), "Lane 2 closed");
	ASSERT_STR_EQ(str(f.j, "info.0.severity"), "Moderate");
	ASSERT_STR_EQ(str(f.j, "info.0.category.0"), "Other");
	ASSERT_STR_EQ(str(f.j, "info.0.area.areaDesc"), "Mapo-gu");
	ASSERT_STR_EQ(str(f.j, "device"), "(json null)");
	ASSERT_STR_EQ(str(f.j, "standard"), "(json null)");
	ASSERT(cJSON_IsNull(cJSON_GetObjectItem(f.j, "values")));
	f.m.identifier = NULL;
	f.out.len = 0;
	ASSERT_INT_EQ(cap_render(&f.m, &f.out), CAP_EINVAL);
	fx_close(&f);
}

static void expect_headline(struct fx *f, const char *tmpl, const char *expected)
{
	f->out.len = 0;
	if (headline_render(tmpl, &f->m, &f->out) != CAP_OK || strcmp(f->out.data, expected) != 0) {
		fprintf(stderr, "%s\n  got:      %s\n  expected: %s\n", tmpl, f->out.data, expected);
		test_case_failed = 1;
	}
}

static void headline_placeholders(void)
{
	struct fx f;
	ASSERT(fx_open(&f) == 0);
	f.v[5] = (struct norm_value){.present = 1, .boolean = 1};
	f.v[7] = (struct norm_value){.present = 1, .text = "door \"A\"", .text_len = 8};
	f.v[8] = (struct norm_value){.present = 1, .lat = -33.5, .lon = 151};
	expect_headline(&f, "{pm25}/{co2}/{window_open}/{state}/{note}/{location}",
			"80.5/415/true/fault/door \"A\"/37.5665,126.978");
	expect_headline(&f, "{device} {source} {standard} {rule} {severity} {time}",
			"aq-1 acme air-quality pm25-high severe 2026-11-21T09:10:00.000Z");
	expect_headline(&f, "{humidity} {temperature}", "? ?");
	expect_headline(&f, "{nope} {pm25", "{nope} {pm25");
	expect_headline(&f, "", "");
	expect_headline(&f, "{}{{pm25}}", "{}{{pm25}}"); /* "{{pm25}" is not a name */
	f.m.values = NULL;
	f.m.time_ms = 0;
	f.m.device = NULL;
	expect_headline(&f, "{pm25} {time} {device}", "? ? ?");
	fx_close(&f);
}

/* Every naughty string, as headline, description, device and acked_by, comes back intact. */
static void naughty_strings_round_trip(void)
{
	char path[1024];
	size_t len, tried = 0;
	struct fx f;
	snprintf(path, sizeof(path), "%s/tests/corpus/naughty/blns.json", fixture_repo());
	char *text = fixture_read_file(path, &len);
	cJSON *list = text ? cJSON_Parse(text) : NULL, *item;
	free(text);
	ASSERT(cJSON_IsArray(list));
	ASSERT(fx_open(&f) == 0);
	cJSON_ArrayForEach(item, list) {
		const char *s = item->valuestring;
		if (!cJSON_IsString(item) || s == NULL)
			continue;
		f.m.headline = f.m.description = f.m.device = f.m.acked_by = s;
		if (render(&f) != 0)
			break;
		tried++;
		if (strcmp(str(f.j, "info.0.headline"), s) != 0 || strcmp(str(f.j, "device"), s) != 0 ||
		    strcmp(str(f.j, "acked_by"), s) != 0 || strcmp(str(f.j, "info.0.description"), s) != 0) {
			fprintf(stderr, "did not round-trip: %s\n", s);
			test_case_failed = 1;
			break;
		}
	}
	cJSON_Delete(list);
	fx_close(&f);
	ASSERT(tried > 500);
}

static void invalid_utf8_is_replaced(void)
{
	struct fx f;
	ASSERT(fx_open(&f) == 0);
	f.m.headline = "a\xff b\xc0\xaf c\xed\xa0\x80 d\x01\x7f \xe2\x82";
	ASSERT(render(&f) == 0);
	ASSERT_STR_EQ(str(f.j, "info.0.headline"),
		      "a\xef\xbf\xbd b\xef\xbf\xbd\xef\xbf\xbd c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		      " d\x01\x7f \xef\xbf\xbd\xef\xbf\xbd");
	ASSERT(strstr(f.out.data, "d\\u0001\\u007f") != NULL);
	fx_close(&f);
}

static const struct test_case cases[] = {
	{"shape_with_two_languages", shape_with_two_languages},
	{"rule_without_headline", rule_without_headline},
	{"manual_notice", manual_notice},
	{"headline_placeholders", headline_placeholders},
	{"naughty_strings_round_trip", naughty_strings_round_trip},
	{"invalid_utf8_is_replaced", invalid_utf8_is_replaced},
	{NULL, NULL},
};

TEST_MAIN(cases)
