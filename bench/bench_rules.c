/*
 * What does rule evaluation cost per record with 1,000 rules loaded (issue 4's target:
 * under 5 us)? Writes a generated schema set to a temporary directory -- one standard,
 * 1,000 rules of four shapes (threshold, and, abs-difference with for:, delta over 10m)
 * plus a silence rule -- loads it the way the daemon does, and feeds records from 1,000
 * devices through engine_record. Baselines measured in the same run: parsing the std/ JSON
 * of each record (what the daemon must do anyway), and the engine with 1 rule loaded.
 * A last row feeds values that keep about half the conditions active (many open
 * situations: every record runs their clear).
 *
 *   bench-rules [RULES]   (default 1000; BENCH_SECONDS per measurement, default 0.3)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alerts/engine.h"
#include "common/schema_dir.h"
#include "normalizer/timefmt.h"

#define DEVICES 1000
#define RECORDS 4096 /* distinct records, fed round-robin */
#define ROUNDS 5

static const char STANDARD[] =
	"standard: bench-air\nversion: 1\ntitle: Bench air\ninterval: 1m\nfields:\n"
	"  pm25: {type: number, unit: ug/m3}\n  pm10: {type: number, unit: ug/m3}\n"
	"  co2: {type: integer, unit: ppm}\n  temperature: {type: number, unit: degC}\n"
	"  humidity: {type: number, unit: percent}\n  location: {type: geo}\n";

static double seconds_per_measurement = 0.3;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	int rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

/* Rule i of the generated set; thresholds mostly above the data, as in a quiet city. */
static void rule_text(int i, char *buf, size_t len)
{
	char cond[128];
	int k = 100 + i % 400;
	switch (i % 4) {
	case 0: snprintf(cond, sizeof(cond), "pm25 > %d", k); break;
	case 1: snprintf(cond, sizeof(cond), "temperature > %d and humidity < 20", k); break;
	case 2: snprintf(cond, sizeof(cond), "abs(pm10 - pm25) > %d", k); break;
	default: snprintf(cond, sizeof(cond), "\"delta(co2, 10m) > %d\"", k); break;
	}
	snprintf(buf, len, "  - {id: r%04d, standard: bench-air, when: %s,%s severity: minor,"
		 " notify: [ops]}\n", i, cond, i % 4 == 2 ? " for: 1m," : "");
}

/* A schema directory with n rules; returns 0 and the path in dir. */
static int make_dir(int n, char *dir, size_t len)
{
	char line[256], sub[600];
	size_t cap = (size_t)n * 160 + 256, used;
	char *rules = malloc(cap);

	snprintf(dir, len, "%s/citylink-bench-rules-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (rules == NULL || mkdtemp(dir) == NULL)
		goto fail;
	used = (size_t)snprintf(rules, cap, "rules:\n  - {id: quiet, standard: bench-air, silent: "
				"3 intervals, severity: minor, notify: [ops]}\n");
	for (int i = 0; i + 1 < n; i++) {
		rule_text(i, line, sizeof(line));
		used += (size_t)snprintf(rules + used, cap - used, "%s", line);
	}
	snprintf(sub, sizeof(sub), "%s/standards", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/rules", dir);
	mkdir(sub, 0700);
	if (write_file(dir, "standards/bench-air.yaml", STANDARD) < 0 ||
	    write_file(dir, "rules/bench.yaml", rules) < 0 || write_file(dir, "groups.yaml", "groups: [ops]\n") < 0)
		goto fail;
	free(rules);
	return 0;
fail:
	fprintf(stderr, "bench-rules: cannot write %s: %s\n", dir, strerror(errno));
	free(rules);
	return -1;
}

static void remove_dir(const char *dir)
{
	char path[600];
	static const char *const files[] = {"standards/bench-air.yaml", "rules/bench.yaml",
					    "groups.yaml", "standards", "rules", NULL};
	for (int i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		remove(path);
	}
	remove(dir);
}

struct feed {
	char json[RECORDS][400];
	size_t len[RECORDS];
	struct norm_value values[RECORDS][6];
	struct std_record rec[RECORDS];
	char device[DEVICES][16];
};

/* Records as the std/ stream carries them, and the same already typed. hot: pm25 sits
 * around 300, above half of the pm25 and abs(pm10 - pm25) thresholds, so about 500
 * (rule, device) conditions stay active and run their clear on every record. */
static void make_records(struct feed *f, const struct norm_standard *st, int hot)
{
	for (int d = 0; d < DEVICES; d++)
		snprintf(f->device[d], sizeof(f->device[d]), "aq-%04d", d);
	for (int i = 0; i < RECORDS; i++) {
		struct norm_value *v = f->values[i];
		char when[TIME_RFC3339_LEN];
		int64_t t = 1795252200000LL + (int64_t)i * 15000;
		v[0] = (struct norm_value){.present = 1, .number = hot ? 300 + i % 10 : 10 + i % 90};
		v[1] = (struct norm_value){.present = 1, .number = 20 + i % 60};
		v[2] = (struct norm_value){.present = 1, .integer = 400 + i % 200};
		v[3] = (struct norm_value){.present = 1, .number = 15 + i % 10};
		v[4] = (struct norm_value){.present = 1, .number = 40 + i % 30};
		v[5] = (struct norm_value){.present = 1, .lat = 37.5 + (i % 100) / 1e3, .lon = 126.9};
		f->rec[i] = (struct std_record){.standard = st, .source = "bench",
						.device = f->device[i % DEVICES], .time_ms = t, .values = v};
		time_format_rfc3339(t, when);
		int n = snprintf(f->json[i], sizeof(f->json[i]),
				 "{\"standard\":\"bench-air\",\"source\":\"bench\",\"device\":\"%s\","
				 "\"time\":\"%s\",\"values\":{\"pm25\":%g,\"pm10\":%g,\"co2\":%lld,"
				 "\"temperature\":%g,\"humidity\":%g,\"location\":{\"lat\":%g,\"lon\":%g}}}",
				 f->device[i % DEVICES], when, v[0].number, v[1].number,
				 (long long)v[2].integer, v[3].number, v[4].number, v[5].lat, v[5].lon);
		f->len[i] = (size_t)n;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ns per record through engine_record (and the due ticks) for schema dir's rules, or
 * through std_record_parse when parse is set; median of ROUNDS. */
static double measure(const struct norm_schema *s, struct feed *f, int parse, size_t *events)
{
	double rounds[ROUNDS];
	struct engine *e = engine_create(s);
	struct std_parser *p = std_parser_create();
	struct engine_events ev = {0};
	struct std_record r;
	int64_t now = 1795252200000LL, shift = 0;
	char err[200];

	for (int k = 0; k < ROUNDS && e != NULL && p != NULL; k++) {
		size_t calls = 0;
		double start = now_s(), elapsed;
		do {
			for (int i = 0; i < RECORDS; i++) {
				if (parse) {
					*events += std_record_parse(p, s, f->json[i], f->len[i], &r, err,
								    sizeof(err)) == STD_OK;
					continue;
				}
				/* time keeps moving forward across passes, as a live stream does */
				f->rec[i].time_ms += shift;
				now += 15;
				ev.n = 0;
				if (engine_record(e, &f->rec[i], now, &ev) != ENGINE_OK ||
				    (engine_next_due(e) <= now && engine_tick(e, now, &ev) != ENGINE_OK))
					abort();
				*events += ev.n;
			}
			shift = (int64_t)RECORDS * 15000;
			calls += RECORDS;
			elapsed = now_s() - start;
		} while (elapsed < seconds_per_measurement);
		rounds[k] = elapsed * 1e9 / (double)calls;
	}
	engine_free(e);
	std_parser_free(p);
	free(ev.ev);
	qsort(rounds, ROUNDS, sizeof(double), cmp_double);
	return rounds[ROUNDS / 2];
}

static struct norm_schema *load(int n)
{
	char dir[512];
	struct norm_schema *s = NULL;
	struct norm_diags d = {0};
	if (make_dir(n, dir, sizeof(dir)) < 0)
		return NULL;
	if (schema_dir_load(dir, &s, &d) != 0)
		fprintf(stderr, "bench-rules: generated set does not load: %s\n", d.n ? d.lines[0] : "?");
	diags_clear(&d);
	remove_dir(dir);
	return s;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	size_t ev_one = 0, ev_many = 0, ev_hot = 0, parsed = 0;
	struct feed *f = calloc(1, sizeof(*f));
	struct norm_schema *one = load(1), *many = load(n);

	if (getenv("BENCH_SECONDS") != NULL)
		seconds_per_measurement = atof(getenv("BENCH_SECONDS"));
	if (f == NULL || one == NULL || many == NULL || n < 1)
		return 1;
	make_records(f, norm_schema_standard(many, "bench-air"), 0);
	double parse = measure(many, f, 1, &parsed);
	make_records(f, norm_schema_standard(one, "bench-air"), 0);
	double base = measure(one, f, 0, &ev_one);
	make_records(f, norm_schema_standard(many, "bench-air"), 0);
	double full = measure(many, f, 0, &ev_many);
	make_records(f, norm_schema_standard(many, "bench-air"), 1);
	double hot = measure(many, f, 0, &ev_hot);
	printf("rule engine, %d devices, median of %d rounds of %.1f s:\n", DEVICES, ROUNDS,
	       seconds_per_measurement);
	printf("  parse std/ JSON record      %8.0f ns/record  (baseline)\n", parse);
	printf("  engine, 1 rule              %8.0f ns/record  %5.2fx parse\n", base, base / parse);
	printf("  engine, %d rules          %8.0f ns/record  %5.2fx parse, %.2f ns/rule"
	       "  (%zu events)\n", n, full, full / parse, full / n, ev_many);
	printf("  engine, %d rules, ~half active %8.0f ns/record  %5.2fx parse  (%zu events)\n", n, hot,
	       hot / parse, ev_hot);
	printf("  target: under 5000 ns/record with 1,000 rules: %s\n", full < 5000 ? "met" : "NOT met");
	norm_schema_free(one);
	norm_schema_free(many);
	free(f);
	return parsed == 0 ? 1 : 0;
}
