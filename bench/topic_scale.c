/*
 * Does finding a message's source stay flat as a city adds vendors? Loads generated schema
 * sets of 10 and 1,000 sources (one topic filter each, as onboarding adds them) and times
 * norm_schema_match for a topic of the last-added source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "normalizer/normalize.h"

static const char STANDARD[] =
	"standard: level\nversion: 1\ntitle: Level\ninterval: 1m\nfields: {v: {type: number}}\n";

struct lookup {
	const struct norm_schema *s;
	const char *topic;
	size_t len;
	size_t found;
};

static void op_match(void *arg)
{
	struct lookup *l = arg;
	l->found += norm_schema_match(l->s, l->topic, l->len) != NULL;
}

/* n sources "vendor-NNNN" on city/vendor-NNNN/+/data, loaded from memory. */
static struct norm_schema *make_set(int n)
{
	struct norm_file *files = calloc((size_t)n + 1, sizeof(*files));
	char *texts = calloc((size_t)n, 256);
	struct norm_diags d = {0};
	struct norm_schema *s = NULL;

	if (files == NULL || texts == NULL)
		goto out;
	files[0] = (struct norm_file){NORM_FILE_STANDARD, "standards/level.yaml", STANDARD,
				      strlen(STANDARD)};
	for (int i = 0; i < n; i++) {
		char *t = texts + (size_t)i * 256;
		snprintf(t, 256,
			 "source: vendor-%04d\nstandard: level\ntopic: city/vendor-%04d/+/data\n"
			 "format: json\ndevice: {topic: 3}\nfields: {v: v}\n", i, i);
		files[i + 1] = (struct norm_file){NORM_FILE_SOURCE, "sources/generated.yaml", t,
						  strlen(t)};
	}
	if (norm_schema_load(files, (size_t)n + 1, &s, &d) != 0)
		fprintf(stderr, "bench: generated set of %d sources does not load: %s\n", n,
			d.n ? d.lines[0] : "?");
out:
	diags_clear(&d);
	free(texts);
	free(files);
	return s;
}

static double time_lookup(int n)
{
	char topic[64];
	struct norm_schema *s = make_set(n);
	if (s == NULL)
		return -1;
	snprintf(topic, sizeof(topic), "city/vendor-%04d/dev-17/data", n - 1);
	struct lookup l = {s, topic, strlen(topic), 0};
	double ns = bench_measure(op_match, &l);
	if (l.found == 0)
		ns = -1;
	norm_schema_free(s);
	return ns;
}

void bench_topic_scale(void)
{
	double small = time_lookup(10), large = time_lookup(1000);
	if (small <= 0 || large <= 0) {
		printf("\ntopic lookup: could not be measured\n");
		return;
	}
	printf("\ntopic lookup: %.0f ns with 10 sources, %.0f ns with 1000 sources (x%.2f)\n",
	       small, large, large / small);
}
