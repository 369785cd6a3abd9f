/*
 * citylink status --broker URI: every service's retained status
 * (citylink/status/<service>/<client-id>) as one table.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/mqtt.h"
#include "common/secret.h"

#define MAX_SERVICES 256

struct collected {
	pthread_mutex_t mu;
	char *topics[MAX_SERVICES];
	char *payloads[MAX_SERVICES];
	size_t n;
};

static int on_status(void *ctx, const char *topic, size_t topic_len, const void *payload,
		     size_t len)
{
	struct collected *c = ctx;
	pthread_mutex_lock(&c->mu);
	if (c->n < MAX_SERVICES && len > 0) {
		c->topics[c->n] = strndup(topic, topic_len);
		c->payloads[c->n] = strndup(payload, len);
		c->n++;
	}
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static const char *text(const cJSON *o, const char *key, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		snprintf(buf, len, "%.0f", v->valuedouble);
		return buf;
	}
	return "-";
}

static void print_row(const char *topic, const char *payload)
{
	cJSON *o = cJSON_Parse(payload);
	char b[8][32];

	if (!cJSON_IsObject(o)) {
		printf("%-8s %-24s %s\n", "?", topic, payload);
		cJSON_Delete(o);
		return;
	}
	printf("%-8s %-24s %-9s %10s %10s %9s %12s %-5s %8s  %s\n", text(o, "service", b[0], 32),
	       text(o, "client_id", b[1], 32), text(o, "state", b[2], 32),
	       text(o, "received", b[3], 32), text(o, "stored", b[4], 32),
	       text(o, "rejected", b[5], 32), text(o, "spool_bytes", b[6], 32),
	       text(o, "db", b[7], 32), text(o, "db_lag_ms", b[0], 32), text(o, "time", b[1], 32));
	cJSON_Delete(o);
}

int cmd_status(int argc, char **argv)
{
	struct mqtt_options o = {.uri = "mqtt://127.0.0.1:1883"};
	struct collected c = {.n = 0};
	const char *filter = "citylink/status/#";
	char err[512], id[64];
	struct mqtt *m;
	long wait_ms = 1000;
	const char *password_file = NULL;
	char *password = NULL;

	for (int i = 0; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--broker") == 0)
			o.uri = argv[i + 1];
		else if (strcmp(argv[i], "--wait-ms") == 0)
			wait_ms = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--username") == 0)
			o.username = argv[i + 1];
		else if (strcmp(argv[i], "--password-file") == 0)
			password_file = argv[i + 1];
		else
			argc = -1;
	}
	if (argc < 0 || argc % 2 != 0) {
		fprintf(stderr, "usage: citylink status [--broker URI] [--wait-ms MS] [--username U "
				"--password-file F]\n");
		return 2;
	}
	if (password_file != NULL && (password = secret_read(password_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "citylink: status: %s\n", err);
		return 2;
	}
	o.password = password;
	snprintf(id, sizeof(id), "citylink-status-%ld", (long)getpid());
	o.client_id = id;
	pthread_mutex_init(&c.mu, NULL);
	m = mqtt_create(&o, on_status, &c, err, sizeof(err));
	free(password); /* the client copied it */
	if (m == NULL) {
		fprintf(stderr, "citylink: status: %s\n", err);
		return 2;
	}
	mqtt_subscribe_set(m, &filter, 1);
	mqtt_start(m);
	/* Retained statuses arrive right after the subscription; then wait a little more. */
	for (long t = 0; t < wait_ms + 3000 && !(mqtt_ready(m) && t >= wait_ms); t += 50)
		clock_sleep_ms(50);
	if (!mqtt_ready(m)) {
		mqtt_last_error(m, err, sizeof(err));
		fprintf(stderr, "citylink: status: cannot reach %s: %s\n", o.uri, err);
		mqtt_free(m);
		return 2;
	}
	mqtt_pause(m, 0);
	printf("%-8s %-24s %-9s %10s %10s %9s %12s %-5s %8s  %s\n", "SERVICE", "CLIENT", "STATE",
	       "RECEIVED", "STORED", "REJECTED", "SPOOL_BYTES", "DB", "LAG_MS", "UPDATED");
	pthread_mutex_lock(&c.mu);
	for (size_t i = 0; i < c.n; i++) {
		print_row(c.topics[i], c.payloads[i]);
		free(c.topics[i]);
		free(c.payloads[i]);
	}
	if (c.n == 0)
		printf("(no service has reported on %s)\n", filter);
	pthread_mutex_unlock(&c.mu);
	mqtt_free(m);
	return 0;
}
