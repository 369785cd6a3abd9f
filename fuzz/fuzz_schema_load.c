/*
 * libFuzzer target: norm_schema_load on untrusted YAML, all in memory. Each input is
 * loaded four times, as a standard, a source, a rules file and groups.yaml, next to a
 * valid standard (air-quality) and groups file, so that source and rules inputs get past
 * "unknown standard" into the deeper checks. When an input loads, every source of the
 * set is also run once over a few payloads, since odd but valid mappings are what the
 * normalizer has not seen before.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "normalizer/normalize.h"
#include "normalizer/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The shipped air-quality standard in short (every field, so the shipped air-quality
 * sources and rules in the seed corpus load), plus a string field. */
static const char standard_yaml[] =
	"standard: air-quality\n"
	"version: 1\n"
	"title: Air quality observation\n"
	"interval: 5m\n"
	"fields:\n"
	"  pm1: {type: number, unit: ug/m3, range: [0, 1000]}\n"
	"  pm25: {type: number, unit: ug/m3, range: [0, 1000]}\n"
	"  pm10: {type: number, unit: ug/m3, range: [0, 2000]}\n"
	"  co2: {type: integer, unit: ppm, range: [0, 40000]}\n"
	"  tvoc: {type: number, unit: ppb, range: [0, 60000]}\n"
	"  hcho: {type: number, unit: mg/m3, range: [0, 5]}\n"
	"  no2: {type: number, unit: ug/m3, range: [0, 2000]}\n"
	"  o3: {type: number, unit: ug/m3, range: [0, 2000]}\n"
	"  co: {type: number, unit: mg/m3, range: [0, 1200]}\n"
	"  so2: {type: number, unit: ug/m3, range: [0, 5000]}\n"
	"  temperature: {type: number, unit: degC, range: [-40, 85]}\n"
	"  humidity: {type: number, unit: percent, range: [0, 100]}\n"
	"  pressure: {type: number, unit: hPa, range: [300, 1100]}\n"
	"  aqi: {type: integer, range: [0, 500]}\n"
	"  aqi_level: {type: enum, values: [good, moderate, unhealthy_sensitive, unhealthy,\n"
	"              very_unhealthy, hazardous]}\n"
	"  window_open: {type: boolean}\n"
	"  battery: {type: number, unit: percent, range: [0, 100]}\n"
	"  state: {type: enum, values: [ok, fault, maintenance]}\n"
	"  note: {type: string, max_length: 20}\n"
	"  location: {type: geo}\n";

static const char groups_yaml[] =
	"groups: [environment, facilities, duty-officer, disaster-room]\n";

static const char *const payloads[] = {
	"{\"pm25\":12,\"pm2_5\":3,\"data\":{\"pm25\":1},\"ts\":1795252200000}",
	"[{\"bn\":\"urn:dev:x:\",\"bt\":1795252200,\"n\":\"pm25\",\"v\":1},"
	"{\"n\":\"temperature\",\"u\":\"Cel\",\"v\":20}]",
	"{\"readings\":[{\"pm25\":1},{\"pm25\":2}]}",
	"12.5",
	NULL};

/* A topic the filter matches: every wildcard level becomes "d". */
static void topic_for(const char *filter, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = filter; *p != '\0' && o + 2 < len; p++)
		out[o++] = *p == '+' || *p == '#' ? 'd' : *p;
	out[o] = '\0';
}

static void exercise(const struct norm_schema *s)
{
	size_t n;
	const struct norm_source *src = norm_schema_sources(s, &n);
	struct norm_result *r = norm_result_create();
	char topic[512];

	for (size_t i = 0; r != NULL && i < n; i++) {
		topic_for(src[i].topic, topic, sizeof(topic));
		for (int j = 0; payloads[j] != NULL; j++)
			norm_normalize(s, NULL, topic, strlen(topic), payloads[j], strlen(payloads[j]),
				       1795252200000, r);
	}
	norm_result_free(r);
}

static void load_as(enum norm_file_kind kind, const char *data, size_t size)
{
	struct norm_file files[3] = {
		{NORM_FILE_STANDARD, "standards/air-quality.yaml", standard_yaml, sizeof(standard_yaml) - 1},
		{NORM_FILE_GROUPS, "groups.yaml", groups_yaml, sizeof(groups_yaml) - 1},
		{kind, "fuzz.yaml", data, size},
	};
	struct norm_diags d = {0};
	struct norm_schema *s = NULL;

	if (kind == NORM_FILE_GROUPS)
		files[1] = files[2]; /* a set has one groups.yaml */
	int rc = norm_schema_load(files, kind == NORM_FILE_GROUPS ? 2 : 3, &s, &d);
	if (rc == 0 && s == NULL)
		abort();
	if (rc == 0)
		exercise(s);
	else if (rc == -1 && (s != NULL || (d.n == 0 && d.dropped == 0)))
		abort(); /* a refusal hands back nothing and says why */
	norm_schema_free(s);
	diags_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_as(NORM_FILE_STANDARD, (const char *)data, size);
	load_as(NORM_FILE_SOURCE, (const char *)data, size);
	load_as(NORM_FILE_RULES, (const char *)data, size);
	load_as(NORM_FILE_GROUPS, (const char *)data, size);
	return 0;
}
