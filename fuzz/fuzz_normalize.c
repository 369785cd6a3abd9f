/*
 * libFuzzer target: norm_normalize on untrusted messages, against the shipped schema set
 * (CITYLINK_SCHEMAS, default "schemas", loaded once). An input is "TOPIC\nPAYLOAD": the
 * first line is the topic, the rest the payload bytes.
 *
 * Besides the sanitizers, it checks what callers rely on: a reject has a reason, a record
 * has a device and its JSON line (what goes out on std/...) is valid JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* The fuzz rule links the normalizer only; the directory reader is compiled in here so
 * the target loads the schema set exactly as the daemons do. */
#include "common/schema_dir.h"
#include "normalizer/normalize.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct norm_schema *schema;
static struct norm_result *result;
static struct norm_buf line;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("CITYLINK_SCHEMAS");
	struct norm_diags d = {0};

	(void)argc;
	(void)argv;
	dir = dir ? dir : "schemas";
	if (schema_dir_load(dir, &schema, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
		fprintf(stderr, "fuzz_normalize: cannot load the schema set %s (set CITYLINK_SCHEMAS)\n",
			dir);
		exit(2);
	}
	diags_clear(&d);
	result = norm_result_create();
	if (result == NULL)
		exit(2);
	return 0;
}

static void check_records(void)
{
	for (size_t i = 0; i < norm_result_count(result); i++) {
		const struct norm_record *rec = norm_result_record(result, i);
		if (rec == NULL || rec->device == NULL || rec->device[0] == '\0')
			abort();
		line.len = 0;
		if (norm_record_json(rec, &line) != NORM_OK)
			continue; /* out of memory is allowed */
		cJSON *j = cJSON_ParseWithLength(line.data, line.len);
		if (j == NULL) {
			fprintf(stderr, "record JSON does not parse: %s\n", line.data);
			abort();
		}
		cJSON_Delete(j);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	size_t topic_len = nl ? (size_t)(nl - in) : size;
	const char *payload = nl ? nl + 1 : in + size;
	size_t payload_len = size - topic_len - (nl ? 1 : 0);

	int rc = norm_normalize(schema, NULL, in, topic_len, payload, payload_len, 1795252200000,
				result);
	if (rc == NORM_OK)
		check_records();
	else if (rc == NORM_REJECT && norm_result_reason(result)[0] == '\0')
		abort(); /* every reject must say why */
	return 0;
}
