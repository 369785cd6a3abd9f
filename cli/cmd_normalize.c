/*
 * citylink normalize --schemas DIR --topic TOPIC [--received TIME] [FILE|-]
 * The dry run for authors and vendors: the records as JSON lines on stdout and exit 0,
 * or "reject: <reason>" on stderr and exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "common/clock.h"
#include "normalizer/normalize.h"
#include "normalizer/timefmt.h"

#define PAYLOAD_READ_MAX (64 * 1024 * 1024)

struct options {
	const char *schemas, *topic, *file, *received;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = strcmp(a, "--schemas") == 0    ? &o->schemas
				    : strcmp(a, "--topic") == 0    ? &o->topic
				    : strcmp(a, "--received") == 0 ? &o->received
								   : NULL;
		if (slot != NULL && i + 1 < argc) {
			*slot = argv[++i];
		} else if (slot == NULL && (a[0] != '-' || strcmp(a, "-") == 0) && o->file == NULL) {
			o->file = a;
		} else {
			fprintf(stderr, "citylink: normalize: unexpected argument \"%s\"\n", a);
			return -1;
		}
	}
	if (o->schemas == NULL || o->topic == NULL) {
		fprintf(stderr, "usage: citylink normalize --schemas DIR --topic TOPIC "
				"[--received ISO8601] [FILE|-]\n");
		return -1;
	}
	return 0;
}

static char *read_all(const char *name, size_t *len)
{
	FILE *f = name == NULL || strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (f == NULL) {
		perror(name);
		return NULL;
	}
	do {
		if (*len == cap) {
			char *grown = cap < PAYLOAD_READ_MAX ? realloc(buf, cap ? cap * 2 : 4096) : NULL;
			if (grown == NULL) {
				fprintf(stderr, "citylink: %s: too large or out of memory\n", name ? name : "stdin");
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0);
	if (buf != NULL && ferror(f)) {
		perror(name ? name : "stdin");
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	return buf ? buf : NULL;
}

static int print_records(const struct norm_result *r)
{
	struct norm_buf line = {0};
	int rc = 0;
	for (size_t i = 0; i < norm_result_count(r) && rc == 0; i++) {
		line.len = 0;
		if (norm_record_json(norm_result_record(r, i), &line) != NORM_OK ||
		    printf("%s\n", line.data) < 0)
			rc = 2;
	}
	norm_buf_free(&line);
	return rc;
}

int cmd_normalize(int argc, char **argv)
{
	struct options o = {0};
	int64_t received;
	size_t len;
	int rc = 2;

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	received = clock_wall_ms();
	if (o.received && time_parse_iso8601(o.received, strlen(o.received), &received) < 0) {
		fprintf(stderr, "citylink: --received \"%s\" is not an ISO 8601 time\n", o.received);
		return 2;
	}
	char *payload = read_all(o.file, &len);
	struct norm_schema *s = payload ? cli_load_schemas(o.schemas) : NULL;
	struct norm_result *r = s ? norm_result_create() : NULL;
	if (r != NULL) {
		int n = norm_normalize(s, NULL, o.topic, strlen(o.topic), payload, len, received, r);
		if (n == NORM_OK)
			rc = print_records(r);
		else if (n == NORM_REJECT) {
			fprintf(stderr, "reject: %s\n", norm_result_reason(r));
			rc = 1;
		} else
			fprintf(stderr, "citylink: out of memory\n");
	} else if (payload != NULL && s != NULL) {
		fprintf(stderr, "citylink: out of memory\n");
	}
	norm_result_free(r);
	norm_schema_free(s);
	free(payload);
	return rc == 0 && fflush(stdout) != 0 ? 2 : rc;
}
