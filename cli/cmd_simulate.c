/*
 * citylink simulate: publishes the simulator's raw vendor payloads (cli/sim.h) on each
 * source's topic at QoS 1, paced to --rate messages per second, so they go through the
 * real normalizer in citylink-ingest. Prints one summary line per --summary-interval;
 * SIGINT/SIGTERM (or --duration, or --once) stop it after the publishes are acknowledged.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/sim.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/mqtt.h"
#include "common/secret.h"

static const struct config_def defs[] = {
	{"broker", CONFIG_STRING, "mqtt://127.0.0.1:1883", 0, 0, NULL, 0, "MQTT broker URI (mqtts:// for TLS)"},
	{"schemas", CONFIG_STRING, "/etc/citylink/schemas", 0, 0, NULL, 0, "schema directory whose sources are simulated"},
	{"devices", CONFIG_INT, "60", 1, 100000, NULL, 0, "devices, spread over the sources in turn"},
	{"rate", CONFIG_INT, "20", 1, 1000000, NULL, 0, "messages per second, all devices together"},
	{"duration", CONFIG_DURATION, "0", 0, 0, NULL, 0, "stop after this long (0: until interrupted)"},
	{"once", CONFIG_BOOL, "false", 0, 0, NULL, 0, "one round: each device reports once, then exit"},
	{"seed", CONFIG_INT, "1", 0, 0, NULL, 0, "the same seed gives the same devices and values"},
	{"bad_percent", CONFIG_INT, "1", 0, 100, NULL, 0, "share of deliberately bad messages (malformed, out of range)"},
	{"silent_after", CONFIG_DURATION, "60s", 0, 0, NULL, 0, "when the silent device stops reporting"},
	{"summary_interval", CONFIG_DURATION, "10s", 100, 24LL * 3600 * 1000, NULL, 0, "how often to print the summary line"},
	{"client_id", CONFIG_STRING, NULL, 0, 0, NULL, 0, "MQTT client id (default citylink-simulate-PID)"},
	{"username", CONFIG_STRING, NULL, 0, 0, NULL, 0, "MQTT username"},
	{"password_file", CONFIG_SECRET_FILE, NULL, 0, 0, NULL, 0, "file holding the MQTT password (mode 0600)"},
	{"ca_file", CONFIG_STRING, NULL, 0, 0, NULL, 0, "TLS: CA certificates to trust"},
};
#define N_DEFS (sizeof(defs) / sizeof(defs[0]))

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* What one run counts, per standard too. */
struct counts {
	long published, bad, failed, incidents;
	long *per_standard;
	const struct norm_standard *standards;
	size_t n_standards;
};

static void print_summary(const struct counts *c, int64_t elapsed_ms)
{
	printf("simulate: t=%llds published=%ld bad=%ld failed=%ld in_incident=%ld",
	       (long long)(elapsed_ms / 1000), c->published, c->bad, c->failed, c->incidents);
	for (size_t i = 0; i < c->n_standards; i++)
		printf(" %s=%ld", c->standards[i].id, c->per_standard[i]);
	printf("\n");
	fflush(stdout);
}

static int publish_tick(struct mqtt *m, const struct sim_tick *t, struct counts *c)
{
	char err[256];

	for (size_t i = 0; i < t->n; i++) {
		const struct sim_message *msg = &t->items[i];
		if (mqtt_publish(m, msg->topic, msg->payload, strlen(msg->payload), 1, 0, 10000, err,
				 sizeof(err)) != 0) {
			if (c->failed++ == 0)
				fprintf(stderr, "citylink: simulate: publish to %s: %s\n", msg->topic, err);
			continue;
		}
		c->published++;
		c->bad += msg->bad != SIM_GOOD;
		c->incidents += msg->incident != NULL && i == 0;
		c->per_standard[msg->source->standard - c->standards]++;
	}
	return 0;
}

/* Publishes until stopped, paced to rate; returns the exit status. */
static int run(struct mqtt *m, struct sim *sim, const struct config *cfg, struct counts *c)
{
	int64_t rate = config_int(cfg, "rate"), duration = config_int(cfg, "duration");
	int64_t every = config_int(cfg, "summary_interval");
	int64_t start = clock_mono_ms(), next_summary = start + every;
	size_t rounds = config_bool(cfg, "once") ? sim_device_count(sim) : 0;
	char err[256];

	for (size_t ticks = 0; !stop_requested && (rounds == 0 || ticks < rounds); ticks++) {
		struct sim_tick t = {0};
		int64_t now = clock_mono_ms();
		if (duration > 0 && now - start >= duration)
			break;
		if (sim_next(sim, clock_wall_ms(), &t, err, sizeof(err)) != 0) {
			fprintf(stderr, "citylink: simulate: %s\n", err);
			sim_tick_free(&t);
			return 1;
		}
		publish_tick(m, &t, c);
		sim_tick_free(&t);
		if (now >= next_summary) {
			print_summary(c, now - start);
			next_summary += every;
		}
		/* pace: message k is due at start + k / rate */
		int64_t due = start + (int64_t)((double)c->published * 1000.0 / (double)rate);
		if (due > clock_mono_ms())
			clock_sleep_ms((int)(due - clock_mono_ms()));
	}
	if (mqtt_flush(m, 10000) != 0)
		fprintf(stderr, "citylink: simulate: some publishes were not acknowledged\n");
	print_summary(c, clock_mono_ms() - start);
	return c->failed > 0 ? 1 : 0;
}

static struct mqtt *connect_broker(const struct config *cfg, const char *password)
{
	char id[64], err[512];
	struct mqtt_options o = {
		.uri = config_string(cfg, "broker"),
		.client_id = config_string(cfg, "client_id"),
		.username = config_string(cfg, "username"),
		.password = password,
		.ca_file = config_string(cfg, "ca_file"),
	};
	struct mqtt *m;

	snprintf(id, sizeof(id), "citylink-simulate-%ld", (long)getpid());
	if (o.client_id == NULL)
		o.client_id = id;
	if ((m = mqtt_create(&o, NULL, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "citylink: simulate: %s\n", err);
		return NULL;
	}
	mqtt_start(m);
	for (int waited = 0; waited < 10000 && !mqtt_ready(m) && !stop_requested; waited += 50) {
		clock_sleep_ms(50);
	}
	if (!mqtt_ready(m)) {
		mqtt_last_error(m, err, sizeof(err));
		fprintf(stderr, "citylink: simulate: cannot reach %s: %s\n", o.uri, err);
		mqtt_free(m);
		return NULL;
	}
	return m;
}

static struct sim *make_sim(const struct norm_schema *s, const struct config *cfg)
{
	struct sim_options o = {
		.devices = (int)config_int(cfg, "devices"),
		.seed = (uint64_t)config_int(cfg, "seed"),
		.bad_ratio = (double)config_int(cfg, "bad_percent") / 100.0,
		.incident_ratio = 0.002,
		.silent_after_ms = config_int(cfg, "silent_after"),
	};
	const struct norm_rule *rule;
	char err[256];
	struct sim *sim = sim_create(s, &o, err, sizeof(err));

	if (sim == NULL) {
		fprintf(stderr, "citylink: simulate: %s\n", err);
		return NULL;
	}
	const char *silent = sim_silent_device(sim, &rule);
	printf("simulate: %zu devices, %lld msg/s; device %s goes silent after %llds", o.devices > 0 ? (size_t)o.devices : 0,
	       config_int(cfg, "rate"), silent, (long long)(o.silent_after_ms / 1000));
	if (rule != NULL)
		printf(" (rule %s notices after %llds more)", rule->id, (long long)(rule->silent_ms / 1000));
	printf("\n");
	fflush(stdout);
	return sim;
}

/* Parses the flags; returns the config or NULL after printing why (*status set). */
static struct config *parse(int argc, char **argv, int *status)
{
	struct config *cfg = config_create(defs, N_DEFS);
	struct config_flags flags;
	struct norm_diags d = {0};

	*status = 2;
	if (cfg == NULL)
		return NULL;
	/* config_parse_args skips argv[0]: here that is the word "simulate" */
	int rc = config_parse_args(cfg, argc + 1, argv - 1, &flags, &d);
	if (flags.help) {
		config_usage(stdout, "citylink simulate", defs, N_DEFS);
		*status = 0;
	} else if (rc != 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "citylink: simulate: %s\n", d.lines[i]);
	} else {
		diags_clear(&d);
		return cfg;
	}
	diags_clear(&d);
	config_free(cfg);
	return NULL;
}

int cmd_simulate(int argc, char **argv)
{
	struct config *cfg;
	struct norm_schema *s = NULL;
	struct sim *sim = NULL;
	struct mqtt *m = NULL;
	struct counts c = {0};
	char *password = NULL, err[256];
	int status;

	if ((cfg = parse(argc, argv, &status)) == NULL)
		return status;
	status = 2;
	if (config_string(cfg, "password_file") != NULL &&
	    (password = secret_read(config_string(cfg, "password_file"), err, sizeof(err))) == NULL) {
		fprintf(stderr, "citylink: simulate: %s\n", err);
		goto out;
	}
	if ((s = cli_load_schemas(config_string(cfg, "schemas"))) == NULL || (sim = make_sim(s, cfg)) == NULL)
		goto out;
	c.standards = norm_schema_standards(s, &c.n_standards);
	c.per_standard = calloc(c.n_standards + 1, sizeof(*c.per_standard));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (c.per_standard == NULL || (m = connect_broker(cfg, password)) == NULL)
		goto out;
	status = run(m, sim, cfg, &c);
	mqtt_pause(m, 0);
out:
	mqtt_free(m);
	free(c.per_standard);
	sim_free(sim);
	norm_schema_free(s);
	free(password);
	config_free(cfg);
	return status;
}
