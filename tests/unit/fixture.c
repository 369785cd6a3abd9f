/* Inline schema sets for unit tests (see fixture.h). */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const FIXTURE_AIR_QUALITY =
	"standard: air-quality\n"
	"version: 1\n"
	"title: Air quality observation\n"
	"interval: 5m\n"
	"fields:\n"
	"  pm10:        {type: number,  unit: ug/m3,   range: [0, 2000]}\n"
	"  pm25:        {type: number,  unit: ug/m3,   range: [0, 1000], required: true}\n"
	"  co2:         {type: integer, unit: ppm,     range: [0, 40000]}\n"
	"  temperature: {type: number,  unit: degC,    range: [-40, 85]}\n"
	"  humidity:    {type: number,  unit: percent, range: [0, 100]}\n"
	"  window_open: {type: boolean}\n"
	"  state:       {type: enum, values: [ok, fault, maintenance]}\n"
	"  note:        {type: string, max_length: 10}\n"
	"  location:    {type: geo}\n";

struct norm_schema *fixture_load(const char *std_a, const char *std_b, const char *src_a,
				 const char *src_b, const char *rules, const char *groups,
				 struct norm_diags *d)
{
	const struct {
		enum norm_file_kind kind;
		const char *path, *text;
	} all[] = {
		{NORM_FILE_STANDARD, "standards/a.yaml", std_a},
		{NORM_FILE_STANDARD, "standards/b.yaml", std_b},
		{NORM_FILE_SOURCE, "sources/a.yaml", src_a},
		{NORM_FILE_SOURCE, "sources/b.yaml", src_b},
		{NORM_FILE_RULES, "rules/a.yaml", rules},
		{NORM_FILE_GROUPS, "groups.yaml", groups},
	};
	struct norm_file files[6];
	size_t n = 0;
	struct norm_schema *s = NULL;

	for (size_t i = 0; i < 6; i++)
		if (all[i].text != NULL)
			files[n++] = (struct norm_file){all[i].kind, all[i].path, all[i].text,
							strlen(all[i].text)};
	if (norm_schema_load(files, n, &s, d) != 0)
		return NULL;
	return s;
}

const char *fixture_first(const struct norm_diags *d)
{
	return d->n > 0 ? d->lines[0] : "";
}

const char *const FIXTURE_ACME_SOURCE =
	"source: acme-aq\n"
	"standard: air-quality\n"
	"topic: city/acme-aq/+\n"
	"format: json\n"
	"device: {topic: 3}\n"
	"time: {path: ts, as: unix_ms}\n"
	"fields:\n"
	"  pm10: pm10\n"
	"  pm25: [pm2_5, pm25, data.pm25]\n"
	"  co2: sensors[0].co2\n"
	"  temperature: {path: temp_f, unit: degF}\n"
	"  window_open: {path: win, map: {open: true, closed: false}}\n"
	"  state: {path: st, map: {0: ok, 1: fault, 2: maintenance}}\n"
	"  humidity: {path: hum, scale: 100, offset: 0}\n"
	"  note: note\n"
	"  location: {lat: gps.lat, lon: gps.lon}\n";

const char *fixture_repo(void)
{
	const char *r = getenv("CITYLINK_REPO");
	return r != NULL && r[0] != '\0' ? r : ".";
}

char *fixture_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		/* One spare byte: an empty file still gets a real pointer, text ends in NUL. */
		data = malloc((size_t)n + 1);
		if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
			free(data);
			data = NULL;
		}
		if (data != NULL)
			data[n] = '\0';
		*len = (size_t)n;
	}
	fclose(f);
	return data;
}
