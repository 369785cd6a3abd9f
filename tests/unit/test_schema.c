/* Schema loading: every error as file:line:col, all collected, nothing half-loaded. */
#include <stdlib.h>

#include "fixture.h"
#include "normalizer/normalize.h"
#include "test.h"

#define AQ FIXTURE_AIR_QUALITY


static const char *const GROUPS = "groups: [environment, facilities, duty-officer]\n";

/* Loads and expects refusal; returns the diagnostics for inspection. */
static struct norm_diags refused(const char *std, const char *src, const char *rules)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(std, NULL, src, NULL, rules, GROUPS, &d);
	norm_schema_free(s);
	if (s != NULL)
		diags_add(&d, "TEST", 0, 0, "unexpectedly loaded");
	return d;
}

static void design_examples_load(void)
{
	static const char *const rules =
		"rules:\n"
		"  - id: pm25-high\n"
		"    standard: air-quality\n"
		"    when: pm25 > 75\n"
		"    for: 10m\n"
		"    clear: pm25 < 50\n"
		"    severity: severe\n"
		"    notify: [environment]\n"
		"    escalate: [{after: 30m, notify: [duty-officer]}]\n"
		"    headline: \"PM2.5 {pm25} ug/m3 at {device}\"\n"
		"  - id: aq-silent\n"
		"    standard: air-quality\n"
		"    silent: 3 intervals\n"
		"    severity: minor\n"
		"    notify: [facilities]\n";
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(AQ, NULL, FIXTURE_ACME_SOURCE, NULL, rules, GROUPS, &d);
	size_t n;

	ASSERT_STR_EQ(fixture_first(&d), "");
	ASSERT(s != NULL);
	norm_schema_standards(s, &n);
	ASSERT_INT_EQ(n, 1);
	const struct norm_rule *r = norm_schema_rules(s, &n);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(r[0].for_ms, 600000);
	ASSERT_INT_EQ(r[1].silent_ms, 3 * 300000);
	ASSERT_STR_EQ(norm_schema_standard(s, "air-quality")->table, "std_air_quality");
	ASSERT(norm_schema_match(s, "city/acme-aq/aq-1", 17) != NULL);
	ASSERT(norm_schema_match(s, "city/other/aq-1", 15) == NULL);
	norm_schema_free(s);
	diags_clear(&d);
}

static void unknown_key_has_position(void)
{
	struct norm_diags d = refused("standard: x\nversion: 1\ntitle: X\ninterval: 5m\ncolour: red\n"
				      "fields: {a: {type: number}}\n",
				      NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/a.yaml:5:1: unknown key \"colour\" in a standard");
	diags_clear(&d);
}

static void duplicate_key_refused(void)
{
	struct norm_diags d = refused("standard: x\nversion: 1\ntitle: X\ntitle: Y\ninterval: 5m\n"
				      "fields: {a: {type: number}}\n",
				      NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/a.yaml:4:1: duplicate key \"title\" (first at line 3)");
	diags_clear(&d);
}

static void every_error_is_collected(void)
{
	struct norm_diags d = refused("standard: Bad_Id\nversion: zero\ntitle: X\ninterval: 5 parsecs\n"
				      "fields:\n  a: {type: number, range: [10, 5]}\n"
				      "  b: {type: number, unit: furlong}\n  c: {type: colour}\n",
				      NULL, NULL);
	ASSERT_INT_EQ(d.n, 6);
	ASSERT_STR_CONTAINS(d.lines[0], "standards/a.yaml:1:11: standard id \"Bad_Id\"");
	ASSERT_STR_CONTAINS(d.lines[1], "standards/a.yaml:2:10: version must be a number");
	ASSERT_STR_CONTAINS(d.lines[2], "standards/a.yaml:4:11: interval \"5 parsecs\" is not a duration");
	ASSERT_STR_CONTAINS(d.lines[3], "standards/a.yaml:6:28: range [10, 5] is empty");
	ASSERT_STR_CONTAINS(d.lines[4], "standards/a.yaml:7:27: unknown unit \"furlong\"");
	ASSERT_STR_CONTAINS(d.lines[5], "standards/a.yaml:8:13: type \"colour\" is not one of");
	diags_clear(&d);
}

static void yaml_syntax_error_has_position(void)
{
	struct norm_diags d = refused("standard: x\nfields: [a, b\n", NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/a.yaml:3:1: YAML syntax error");
	diags_clear(&d);
}

static void anchors_and_aliases_refused(void)
{
	struct norm_diags d = refused("standard: x\nversion: 1\ntitle: &t X\ninterval: 5m\n"
				      "fields: {a: {type: number, description: *t}}\n",
				      NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/a.yaml:3:8: YAML anchors (&name) are not allowed");
	diags_clear(&d);
}

static void nesting_depth_bounded(void)
{
	char deep[200] = "standard: ";
	size_t at = strlen(deep);
	memset(deep + at, '[', 40);
	deep[at + 40] = '\0';
	struct norm_diags d = refused(deep, NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "nesting deeper than 32 levels");
	diags_clear(&d);
}

static void second_document_refused(void)
{
	struct norm_diags d = refused("standard: x\n---\nstandard: y\n", NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/a.yaml:2:1: only one YAML document per file");
	diags_clear(&d);
}

static void yes_is_not_a_boolean(void)
{
	struct norm_diags d = refused("standard: x\nversion: 1\ntitle: X\ninterval: 5m\n"
				      "fields: {a: {type: number, required: yes}}\n",
				      NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "required must be true or false, not \"yes\"");
	diags_clear(&d);
}

static void reserved_field_name(void)
{
	struct norm_diags d = refused("standard: x\nversion: 1\ntitle: X\ninterval: 5m\n"
				      "fields: {time: {type: number}}\n",
				      NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/a.yaml:5:10: field name \"time\" is reserved");
	diags_clear(&d);
}

static void unit_on_boolean_refused(void)
{
	struct norm_diags d = refused("standard: x\nversion: 1\ntitle: X\ninterval: 5m\n"
				      "fields: {a: {type: boolean, unit: degC}}\n",
				      NULL, NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "\"unit\" applies only to number or integer fields, not boolean");
	diags_clear(&d);
}

static void source_unknown_standard(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: water\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\nfields: {pm25: a}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:2:11: unknown standard \"water\"");
	diags_clear(&d);
}

static void source_unknown_field(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\nfields: {pm25: a, pm1: b}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:6:19: standard air-quality has no field \"pm1\"");
	diags_clear(&d);
}

static void unit_of_unlike_dimension(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\nfields:\n  pm25: {path: a, unit: degF}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:7:25: unit degF (temperature) cannot convert to ug/m3");
	diags_clear(&d);
}

static void required_field_unmapped(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\nfields: {pm10: a}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "required field pm25 of standard air-quality is not mapped");
	diags_clear(&d);
}

static void device_level_must_be_wildcard(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 2}\nfields: {pm25: a}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "device topic level 2 of topic city/s/+ is not a wildcard");
	diags_clear(&d);
}

static void bad_topic_filter(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s#/+\nformat: json\n"
					  "device: {topic: 3}\nfields: {pm25: a}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:3:8: topic city/s#/+: '#' must stand alone");
	diags_clear(&d);
}

static void bad_path_refused(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\nfields: {pm25: \"a[0\"}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:6:16: path \"a[0\":");
	diags_clear(&d);
}

static void enum_map_target_checked(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\nfields:\n  pm25: a\n  state: {path: st, map: {0: broken}}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "map value \"broken\" is not one of the values of state");
	diags_clear(&d);
}

static void overlapping_sources_refused(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(
		AQ, NULL,
		"source: s1\nstandard: air-quality\ntopic: city/aq/+\nformat: json\ndevice: {topic: 3}\nfields: {pm25: a}\n",
		"source: s2\nstandard: air-quality\ntopic: city/+/#\nformat: json\ndevice: {topic: 3}\nfields: {pm25: a}\n",
		NULL, GROUPS, &d);
	ASSERT(s == NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "topic city/+/# of source s2 overlaps topic city/aq/+ of source s1");
	diags_clear(&d);
}

static void rule_references_checked(void)
{
	struct norm_diags d = refused(AQ, NULL,
				      "rules:\n  - id: r1\n    standard: air-quality\n    when: pm25 > 5\n"
				      "    severity: severe\n    notify: [police]\n"
				      "    headline: \"{pm99} at {device}\"\n");
	ASSERT_INT_EQ(d.n, 2);
	ASSERT_STR_CONTAINS(d.lines[0], "rules/a.yaml:6:14: unknown group \"police\"");
	ASSERT_STR_CONTAINS(d.lines[1], "rules/a.yaml:7:15: headline placeholder {pm99} is not a field of air-quality");
	diags_clear(&d);
}

static void rule_needs_one_trigger(void)
{
	struct norm_diags d = refused(AQ, NULL,
				      "rules:\n  - id: r1\n    standard: air-quality\n    when: pm25 > 5\n"
				      "    silent: 10m\n    severity: severe\n    notify: [environment]\n");
	ASSERT_STR_CONTAINS(fixture_first(&d), "rules/a.yaml:2:5: a rule needs exactly one of \"when\"");
	diags_clear(&d);
}

static void duplicate_rule_ids(void)
{
	struct norm_diags d = refused(AQ, NULL,
				      "rules:\n  - {id: r1, standard: air-quality, silent: 1h, severity: minor, notify: [environment]}\n"
				      "  - {id: r1, standard: air-quality, silent: 2h, severity: minor, notify: [environment]}\n");
	ASSERT_STR_CONTAINS(fixture_first(&d), "rule \"r1\" is already defined in rules/a.yaml:2");
	diags_clear(&d);
}

static void duplicate_standard_ids(void)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(AQ, AQ, NULL, NULL, NULL, GROUPS, &d);
	ASSERT(s == NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "standards/b.yaml:1:1: standard \"air-quality\" is already defined in standards/a.yaml");
	diags_clear(&d);
}

static void zone_checked(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
					  "device: {topic: 3}\ntime: {path: t, as: unix_s, zone: KST}\nfields: {pm25: a}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:6:35: zone applies only to iso8601 times");
	diags_clear(&d);
	d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+\nformat: json\n"
			"device: {topic: 3}\ntime: {path: t, as: iso8601, zone: KST}\nfields: {pm25: a}\n",
		    NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "sources/a.yaml:6:36: zone \"KST\" is not a UTC offset");
	diags_clear(&d);
}

static void scalar_source_needs_field_level(void)
{
	struct norm_diags d = refused(AQ, "source: s\nstandard: air-quality\ntopic: city/s/+/+\nformat: scalar\n"
					  "device: {topic: 3}\nfields: {pm25: pm25}\n",
				      NULL);
	ASSERT_STR_CONTAINS(fixture_first(&d), "a scalar source needs field: {topic: N}");
	diags_clear(&d);
}

static const struct test_case cases[] = {
	{"design_examples_load", design_examples_load},
	{"unknown_key_has_position", unknown_key_has_position},
	{"duplicate_key_refused", duplicate_key_refused},
	{"every_error_is_collected", every_error_is_collected},
	{"yaml_syntax_error_has_position", yaml_syntax_error_has_position},
	{"anchors_and_aliases_refused", anchors_and_aliases_refused},
	{"nesting_depth_bounded", nesting_depth_bounded},
	{"second_document_refused", second_document_refused},
	{"yes_is_not_a_boolean", yes_is_not_a_boolean},
	{"reserved_field_name", reserved_field_name},
	{"unit_on_boolean_refused", unit_on_boolean_refused},
	{"source_unknown_standard", source_unknown_standard},
	{"source_unknown_field", source_unknown_field},
	{"unit_of_unlike_dimension", unit_of_unlike_dimension},
	{"required_field_unmapped", required_field_unmapped},
	{"device_level_must_be_wildcard", device_level_must_be_wildcard},
	{"bad_topic_filter", bad_topic_filter},
	{"bad_path_refused", bad_path_refused},
	{"enum_map_target_checked", enum_map_target_checked},
	{"overlapping_sources_refused", overlapping_sources_refused},
	{"rule_references_checked", rule_references_checked},
	{"rule_needs_one_trigger", rule_needs_one_trigger},
	{"duplicate_rule_ids", duplicate_rule_ids},
	{"duplicate_standard_ids", duplicate_standard_ids},
	{"zone_checked", zone_checked},
	{"scalar_source_needs_field_level", scalar_source_needs_field_level},
	{NULL, NULL},
};

TEST_MAIN(cases)
