/*
 * bench-normalize: what norm_normalize costs next to parsing the same bytes with cJSON
 * alone, per payload, measured in the same run so machine speed cancels out.
 *
 *   bench-normalize CORPUS_DIR PAYLOAD_DIR [SCHEMA_DIR]
 *
 * PAYLOAD_DIR holds NAME.payload / NAME.topic pairs; every payload must normalize (the
 * bench fails otherwise: a rejected message measures the wrong path). Each measurement
 * runs for a fixed time (BENCH_SECONDS, default 0.3 s) and parse and normalize alternate
 * over ROUNDS rounds, of which the median counts. CORPUS_DIR (the test corpora: mostly
 * malformed input) is replayed on a json source's topic to time the reject path; it is
 * reported apart and does not enter the ratio.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bench/bench.h"

#include "common/schema_dir.h"
#include "normalizer/normalize.h"

#define ROUNDS 5
#define TARGET_RATIO 1.5
#define MAX_PAYLOAD (1024 * 1024)
#define MAX_CORPUS 4000

struct payload {
	char name[128];
	char topic[512];
	char *data;
	size_t len;
	size_t records;
};

struct payloads {
	struct payload *items;
	size_t n;
};

/* Something timed: one call of fn(arg), repeated. */

struct norm_op {
	const struct norm_schema *s;
	struct norm_result *r;
	const struct payload *p;
	size_t n;  /* payloads in p, each timed call goes over all of them */
};

static volatile size_t sink; /* keeps the optimiser from dropping the work */

static double seconds_per_measurement = 0.3;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Nanoseconds per call of fn, running for about seconds_per_measurement. */
double bench_measure(op_fn fn, void *arg)
{
	double start = now(), elapsed;
	size_t calls = 0, batch = 1;

	do {
		for (size_t i = 0; i < batch; i++)
			fn(arg);
		calls += batch;
		elapsed = now() - start;
		if (batch < 4096)
			batch *= 2; /* check the clock less often once calls are known to be quick */
	} while (elapsed < seconds_per_measurement);
	return elapsed * 1e9 / (double)calls;
}

static void op_parse(void *arg)
{
	const struct norm_op *o = arg;
	for (size_t i = 0; i < o->n; i++) {
		cJSON *j = cJSON_ParseWithLength(o->p[i].data, o->p[i].len);
		sink += j != NULL;
		cJSON_Delete(j);
	}
}

static void op_normalize(void *arg)
{
	const struct norm_op *o = arg;
	for (size_t i = 0; i < o->n; i++) {
		const struct payload *p = &o->p[i];
		sink += (size_t)norm_normalize(o->s, NULL, p->topic, strlen(p->topic), p->data,
					       p->len, 1795252200000, o->r);
	}
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), by_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Parse and normalize alternate round by round, so drift (frequency scaling, a noisy
 * neighbour) hits both alike; each gets the median of its rounds. */
static void compare(struct norm_op *o, double *parse_ns, double *norm_ns)
{
	double p[ROUNDS], n[ROUNDS];
	for (int i = 0; i < ROUNDS; i++) {
		p[i] = bench_measure(op_parse, o);
		n[i] = bench_measure(op_normalize, o);
	}
	*parse_ns = median(p, ROUNDS);
	*norm_ns = median(n, ROUNDS);
}

/* ---- loading ---- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc(MAX_PAYLOAD + 1) : NULL;

	*len = 0;
	if (buf != NULL) {
		*len = fread(buf, 1, MAX_PAYLOAD + 1, f);
		if (ferror(f) || *len > MAX_PAYLOAD) {
			free(buf);
			buf = NULL;
		} else {
			buf[*len] = '\0';
		}
	}
	if (f != NULL)
		fclose(f);
	if (buf == NULL)
		fprintf(stderr, "bench-normalize: %s: %s\n", path,
			f ? "unreadable or larger than 1 MiB" : strerror(errno));
	return buf;
}

static int is_payload(const struct dirent *e)
{
	size_t len = strlen(e->d_name);
	return len > 8 && strcmp(e->d_name + len - 8, ".payload") == 0;
}

/* The topic file's first line, trimmed. */
static int read_topic(const char *dir, const char *name, char *topic, size_t size)
{
	char path[4096];
	size_t len;

	snprintf(path, sizeof(path), "%s/%s.topic", dir, name);
	char *text = read_file(path, &len);
	if (text == NULL)
		return -1;
	len = strcspn(text, "\r\n");
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	int w = snprintf(topic, size, "%.*s", (int)len, text);
	free(text);
	return w > 0 && (size_t)w < size ? 0 : -1;
}

static int load_one(const char *dir, const char *file, struct payload *p)
{
	char path[4096];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%.*s", (int)(strlen(file) - 8), file);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_topic(dir, p->name, p->topic, sizeof(p->topic)) < 0)
		return -1;
	p->data = read_file(path, &p->len);
	return p->data ? 0 : -1;
}

static int load_payloads(const char *dir, struct payloads *out)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_payload, alphasort), rc = 0;

	if (n <= 0) {
		fprintf(stderr, "bench-normalize: %s: no *.payload files%s%s\n", dir,
			n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		return -1;
	}
	out->items = calloc((size_t)n, sizeof(*out->items));
	for (int i = 0; i < n; i++) {
		if (rc == 0 && (out->items == NULL || load_one(dir, names[i]->d_name, &out->items[i]) < 0))
			rc = -1;
		else if (rc == 0)
			out->n++;
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Every payload must normalize; says which do not, and why. */
static int check_payloads(const struct norm_schema *s, struct norm_result *r, struct payloads *ps)
{
	int bad = 0;
	for (size_t i = 0; i < ps->n; i++) {
		struct payload *p = &ps->items[i];
		int rc = norm_normalize(s, NULL, p->topic, strlen(p->topic), p->data, p->len,
					1795252200000, r);
		if (rc != NORM_OK) {
			fprintf(stderr, "bench-normalize: %s (topic %s) does not normalize: %s\n", p->name,
				p->topic, rc == NORM_REJECT ? norm_result_reason(r) : "out of memory");
			bad = 1;
		}
		p->records = norm_result_count(r);
	}
	return bad ? -1 : 0;
}

/* ---- the reject path: the test corpora ---- */

static struct payloads corpus;
static const char *corpus_topic;

static int corpus_add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || st->st_size > 256 * 1024 || corpus.n >= MAX_CORPUS)
		return 0;
	struct payload *p = &corpus.items[corpus.n];
	memset(p, 0, sizeof(*p));
	p->data = read_file(path, &p->len);
	if (p->data == NULL)
		return 0;
	snprintf(p->topic, sizeof(p->topic), "%s", corpus_topic);
	corpus.n++;
	return 0;
}

static void bench_corpus(const char *dir, const struct norm_schema *s, struct norm_result *r,
			 const char *topic)
{
	struct norm_op o = {s, r, NULL, 0};
	double parse_ns, norm_ns;
	size_t ok = 0;

	corpus_topic = topic;
	corpus.items = calloc(MAX_CORPUS, sizeof(*corpus.items));
	if (corpus.items == NULL || nftw(dir, corpus_add, 16, FTW_PHYS) != 0 || corpus.n == 0) {
		printf("\ncorpus %s: nothing to replay\n", dir);
		return;
	}
	for (size_t i = 0; i < corpus.n; i++)
		ok += norm_normalize(s, NULL, topic, strlen(topic), corpus.items[i].data,
				     corpus.items[i].len, 1795252200000, r) == NORM_OK;
	o.p = corpus.items;
	o.n = corpus.n;
	compare(&o, &parse_ns, &norm_ns);
	printf("\nreject path: %zu files of %s on %s (%zu accepted, %zu refused):\n"
	       "  parse %.2f us/msg, normalize %.2f us/msg (not in the ratio)\n",
	       corpus.n, dir, topic, ok, corpus.n - ok, parse_ns / 1e3 / (double)corpus.n,
	       norm_ns / 1e3 / (double)corpus.n);
	for (size_t i = 0; i < corpus.n; i++)
		free(corpus.items[i].data);
	free(corpus.items);
}

/* A payload topic of a plain json source: the corpora are mostly JSON documents. */
static const char *json_topic(const struct norm_schema *s, const struct payloads *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		const char *t = ps->items[i].topic;
		const struct norm_source *src = norm_schema_match(s, t, strlen(t));
		if (src != NULL && src->format == NORM_FMT_JSON)
			return t;
	}
	return ps->items[0].topic;
}

/* ---- report ---- */

static double report(const struct norm_schema *s, struct norm_result *r, struct payloads *ps)
{
	double log_sum = 0;

	printf("%-26s %7s %4s %10s %11s %10s %11s %6s\n", "payload", "bytes", "recs", "parse us",
	       "parse msg/s", "norm us", "norm msg/s", "ratio");
	for (size_t i = 0; i < ps->n; i++) {
		struct norm_op o = {s, r, &ps->items[i], 1};
		double parse_ns, norm_ns;
		compare(&o, &parse_ns, &norm_ns);
		printf("%-26s %7zu %4zu %10.2f %11.0f %10.2f %11.0f %6.2f\n", ps->items[i].name,
		       ps->items[i].len, ps->items[i].records, parse_ns / 1e3, 1e9 / parse_ns,
		       norm_ns / 1e3, 1e9 / norm_ns, norm_ns / parse_ns);
		fflush(stdout);
		log_sum += log(norm_ns / parse_ns);
	}
	return exp(log_sum / (double)ps->n);
}

static void payloads_free(struct payloads *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->items[i].data);
	free(ps->items);
}

int main(int argc, char **argv)
{
	struct norm_diags d = {0};
	struct norm_schema *s = NULL;
	struct payloads ps = {0};
	struct norm_result *r = norm_result_create();
	const char *env = getenv("BENCH_SECONDS");
	int rc = 1;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: bench-normalize CORPUS_DIR PAYLOAD_DIR [SCHEMA_DIR]\n");
		return 2;
	}
	if (env != NULL && atof(env) > 0)
		seconds_per_measurement = atof(env);
	if (schema_dir_load(argc > 3 ? argv[3] : "schemas", &s, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
		fprintf(stderr, "bench-normalize: the schema set does not load\n");
	} else if (r != NULL && load_payloads(argv[2], &ps) == 0 && check_payloads(s, r, &ps) == 0) {
		printf("normalize vs cJSON parse alone, median of %d rounds of %.2f s each\n\n",
		       ROUNDS, seconds_per_measurement);
		double ratio = report(s, r, &ps);
		bench_corpus(argv[1], s, r, json_topic(s, &ps));
		bench_topic_scale();
		printf("\nratio normalize/parse: %.2f (target <= %.1f)%s\n", ratio, TARGET_RATIO,
		       ratio <= TARGET_RATIO ? "" : "  ABOVE TARGET");
		rc = 0;
	}
	diags_clear(&d);
	payloads_free(&ps);
	norm_result_free(r);
	norm_schema_free(s);
	return rc;
}
