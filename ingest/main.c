/*
 * citylink-ingest: MQTT messages from every source -> local spool -> PostgreSQL, and the
 * normalized records on std/<standard>/<device>.
 *
 * Threads: the MQTT client's I/O thread appends each message to the spool (receiver below); the
 * writer thread stores the spool in the database (writer.c); this main thread handles
 * signals (all blocked elsewhere and taken here with sigtimedwait, so no handler runs
 * anywhere), back-pressure, systemd notifications and the retained status.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/health.h"
#include "common/log.h"
#include "common/mqtt.h"
#include "common/schema_dir.h"
#include "common/secret.h"
#include "common/sd_notify.h"
#include "common/spool.h"
#include "common/xmalloc.h"
#include "ingest/options.h"
#include "ingest/status.h"
#include "ingest/writer.h"

#define DRAIN_MS 10000
/* Resume taking messages once the spool is back under this share of spool_max. */
#define RESUME_PERCENT 80

struct ingest {
	int argc;
	char **argv;
	struct config *cfg;
	struct ingest_options o;
	char client_id[160];
	char status_topic[256];
	struct spool *spool;
	struct mqtt *mqtt;
	struct writer *writer;
	struct ingest_counters counters;
	int64_t started_ms;
	int paused, ready_sent;
	int64_t next_status_ms, next_watchdog_ms, watchdog_ms;
	uint64_t corrupt_reported;   /* spool bytes skipped as torn or corrupt, as last logged */
};

/* ---- configuration and schemas ---- */

static struct norm_limits limits_of(const struct ingest_options *o)
{
	struct norm_limits l = norm_limits_default();
	l.max_payload = o->max_payload;
	return l;
}

/* True if every topic filter f matches is also matched by wide ("city/#" covers
 * "city/acme/+"). Only the '#' form is recognised: anything else counts as not covered,
 * which costs at most a duplicate delivery that the unique key absorbs. */
static int covered_by(const char *wide, const char *f)
{
	size_t n = strlen(wide);

	if (strcmp(wide, "#") == 0)
		return f[0] != '$';
	if (n < 2 || strcmp(wide + n - 2, "/#") != 0)
		return strcmp(wide, f) == 0;
	return strncmp(wide, f, n - 1) == 0 || (strncmp(wide, f, n - 2) == 0 && f[n - 2] == '\0');
}

static void add_filter(struct ingest *in, struct norm_buf *b, const char *filter)
{
	if (in->o.group != NULL)
		xcheck(norm_buf_printf(b, "$share/%s/%s", in->o.group, filter));
	else
		xcheck(norm_buf_printf(b, "%s", filter));
	xcheck(norm_buf_append(b, "", 1)); /* filters are NUL-separated */
}

/* The catch-all filter and every source filter it does not cover, shared with
 * $share/GROUP/ when grouped. Listening wider than the sources is what turns a device
 * publishing on a topic no source maps into a reject row instead of silence. */
static void subscribe(struct ingest *in, const struct norm_schema *s)
{
	size_t n, count = 0;
	const struct norm_source *src = norm_schema_sources(s, &n);
	const char **filters = xcalloc(n + 1, sizeof(*filters));
	struct norm_buf b = {0};

	if (in->o.catch_all != NULL)
		add_filter(in, &b, in->o.catch_all);
	for (size_t i = 0; i < n; i++)
		if (in->o.catch_all == NULL || !covered_by(in->o.catch_all, src[i].topic))
			add_filter(in, &b, src[i].topic);
	for (size_t at = 0; at < b.len; at += strlen(b.data + at) + 1)
		filters[count++] = b.data + at;
	mqtt_subscribe_set(in->mqtt, filters, count);
	free(filters);
	norm_buf_free(&b);
}

/* SIGHUP: a new config and schema set, built aside and swapped only when whole. */
static void reload(struct ingest *in)
{
	struct config_flags flags;
	struct config *c = daemon_read_config(ingest_option_defs, ingest_option_count, in->argc,
					      in->argv, &flags);
	struct norm_diags d = {0};
	struct ingest_options o;
	struct norm_schema *s;
	struct norm_limits lim;

	if (c == NULL || config_reload_check(in->cfg, c, &d) != 0) {
		daemon_print_diags(&d);
		diags_clear(&d);
		config_free(c);
		log_warnx("event=reload_refused reason=\"configuration\" keeping=\"the running set\"");
		return;
	}
	ingest_options_read(c, &o, in->client_id, sizeof(in->client_id));
	s = daemon_load_schemas(o.schemas);
	if (s == NULL) {
		log_warnx("event=reload_refused reason=\"schemas\" dir=%s keeping=\"the running set\"",
			  o.schemas);
		config_free(c);
		return;
	}
	config_free(in->cfg);
	in->cfg = c;
	in->o = o;
	log_init("citylink-ingest", o.debug);
	lim = limits_of(&o);
	writer_set_tuning(in->writer, o.batch_max, o.batch_linger_ms, &lim, o.republish);
	/* The writer takes the new set before new filters bring messages only it knows. */
	writer_set_schema(in->writer, s);
	for (int i = 0; i < 100 && writer_schema_pending(in->writer); i++)
		clock_sleep_ms(50);
	subscribe(in, s);
	log_info("event=reloaded schemas=%s", o.schemas);
}

/* ---- receiving ---- */

static int on_message(void *ctx, const char *topic, size_t topic_len, const void *payload,
		      size_t len)
{
	struct ingest *in = ctx;
	int64_t now = clock_wall_ms();
	int rc = spool_append(in->spool, now, topic, topic_len, payload, len);

	if (rc == SPOOL_ETOOBIG) {
		/* Cannot be kept whole; keep what says what it was, so it is not silent. */
		static const char note[] = "(payload over the spool's 16 MiB limit)";
		rc = spool_append(in->spool, now, topic, topic_len > 1024 ? 1024 : topic_len,
				  note, sizeof(note) - 1);
	}
	if (rc != 0) {
		log_warn("event=spool_append_failed error=\"%s\"", spool_strerror(rc));
		return -1;
	}
	atomic_fetch_add(&in->counters.received, 1);
	return 0;
}

/* ---- the main loop ---- */

static void publish_status(struct ingest *in, const char *state)
{
	char err[512] = "", line[400];
	struct status_info si = {in->client_id, state, in->started_ms,
				 spool_backlog_bytes(in->spool), in->corrupt_reported,
				 mqtt_ready(in->mqtt), err, &in->counters};
	char *json;

	writer_last_error(in->writer, err, sizeof(err));
	if (err[0] == '\0')
		mqtt_last_error(in->mqtt, err, sizeof(err));
	json = status_json(&si);
	status_line(&si, line, sizeof(line));
	health_send(in->mqtt, in->status_topic, json, line);
	free(json);
}

/* A torn tail after a crash (or a damaged segment) is skipped by the spool reader: say so
 * once per discovery, so a skipped byte range is never silent. */
static void report_spool_damage(struct ingest *in)
{
	uint64_t skipped = spool_get_stats(in->spool).corrupt_skipped;

	if (skipped == in->corrupt_reported)
		return;
	log_warnx("event=spool_damage_skipped bytes=%llu total=%llu reason=\"a torn or corrupt "
		  "entry in the spool (after a crash or a disk error) was skipped; what it held is "
		  "redelivered by the broker if it was never acknowledged\"",
		  (unsigned long long)(skipped - in->corrupt_reported), (unsigned long long)skipped);
	in->corrupt_reported = skipped;
}

/* Stops taking messages while the spool is full (the broker keeps them in our session). */
static void backpressure(struct ingest *in)
{
	uint64_t bytes = spool_backlog_bytes(in->spool);

	if (!in->paused && bytes >= in->o.spool_max) {
		in->paused = 1;
		mqtt_pause(in->mqtt, 0);
		log_warnx("event=paused spool_bytes=%llu spool_max=%llu reason=\"the database is "
			  "not keeping up; the broker holds new messages\"",
			  (unsigned long long)bytes, (unsigned long long)in->o.spool_max);
	} else if (in->paused && bytes < in->o.spool_max / 100 * RESUME_PERCENT) {
		in->paused = 0;
		mqtt_start(in->mqtt);
		log_info("event=resumed spool_bytes=%llu", (unsigned long long)bytes);
	}
}

static void tick(struct ingest *in)
{
	int64_t now = clock_mono_ms();

	backpressure(in);
	report_spool_damage(in);
	if (!in->ready_sent && atomic_load(&in->counters.db_up) && mqtt_ready(in->mqtt)) {
		in->ready_sent = 1;
		sd_notify_send("READY=1");
		log_info("event=ready client_id=%s", in->client_id);
		in->next_status_ms = now;
	}
	if (in->watchdog_ms > 0 && now >= in->next_watchdog_ms) {
		sd_notify_send("WATCHDOG=1");
		in->next_watchdog_ms = now + in->watchdog_ms / 2;
	}
	if (now >= in->next_status_ms) {
		publish_status(in, in->paused ? "paused" : in->ready_sent ? "running" : "starting");
		in->next_status_ms = now + in->o.status_interval_ms;
	}
}

/* The main loop (common/daemon.c) calls back with our state. */
static void reload_cb(void *ctx)
{
	reload(ctx);
}

static void tick_cb(void *ctx)
{
	tick(ctx);
}

/* ---- start and stop ---- */

static void open_spool(struct ingest *in)
{
	struct spool_options so = {in->o.spool_dir, in->o.fsync, in->o.fsync_interval_ms, 0, 0};
	char err[512];

	/* The negative control of the fault tests: proves they detect loss. Never for use. */
	if (getenv("CITYLINK_TEST_VOLATILE_SPOOL") != NULL) {
		so.volatile_for_tests = 1;
		log_warnx("event=unsafe_volatile_spool reason=\"test switch set: messages are "
			  "acknowledged before they are durable\"");
	}
	if (spool_open(&so, &in->spool, err, sizeof(err)) != 0)
		fatalx("event=spool_open_failed error=\"%s\"", err);
}

static struct mqtt *make_mqtt(struct ingest *in)
{
	struct status_info will = {.client_id = in->client_id, .state = "offline"};
	char *will_json = status_json(&will);
	struct mqtt_options mo = {0};
	struct mqtt *m;

	mo.client_id = in->client_id;
	mo.session_expiry_s = in->o.session_expiry_s;
	mo.will_topic = in->status_topic;
	mo.will_payload = will_json;
	mo.will_retain = 1;
	m = daemon_mqtt_create(in->cfg, &mo, on_message, in);
	free(will_json);
	return m;
}

static void stop(struct ingest *in)
{
	sd_notify_send("STOPPING=1");
	/* No new messages from here (the broker keeps them in the persistent session), and
	 * the broker publishes our "offline" will. What the writer drains from the spool now
	 * is stored, but not republished: the connection is gone. */
	mqtt_pause(in->mqtt, 1);
	writer_stop(in->writer, DRAIN_MS);
	if (spool_backlog_bytes(in->spool) > 0)
		log_warnx("event=spool_left bytes=%llu reason=\"stored at the next start\"",
			  (unsigned long long)spool_backlog_bytes(in->spool));
}

static void start(struct ingest *in, struct norm_schema *s)
{
	struct writer_config wc;
	uint64_t wd = sd_watchdog_usec();

	in->started_ms = clock_wall_ms();
	status_topic(in->client_id, in->status_topic, sizeof(in->status_topic));
	open_spool(in);
	in->mqtt = make_mqtt(in);
	wc = (struct writer_config){in->o.db, in->client_id, in->spool,
				    in->o.republish ? in->mqtt : NULL, &in->counters,
				    in->o.batch_max, in->o.batch_linger_ms, limits_of(&in->o)};
	subscribe(in, s);
	in->writer = writer_start(&wc, s);
	mqtt_start(in->mqtt);
	in->watchdog_ms = (int64_t)(wd / 1000);
	log_info("event=started client_id=%s broker=%s spool=%s group=%s watchdog_ms=%lld",
		 in->client_id, in->o.broker, in->o.spool_dir, in->o.group ? in->o.group : "-",
		 (long long)in->watchdog_ms);
}

int main(int argc, char **argv)
{
	struct ingest in = {.argc = argc, .argv = argv};
	struct config_flags flags;
	struct norm_schema *s;
	sigset_t signals;

	log_init("citylink-ingest", 0);
	in.cfg = daemon_read_config(ingest_option_defs, ingest_option_count, argc, argv, &flags);
	if (flags.help) {
		config_usage(stdout, "citylink-ingest", ingest_option_defs, ingest_option_count);
		return 0;
	}
	if (flags.version) {
		printf("citylink-ingest 0.1.0\n");
		return 0;
	}
	if (in.cfg == NULL)
		return 1;
	ingest_options_read(in.cfg, &in.o, in.client_id, sizeof(in.client_id));
	log_init("citylink-ingest", in.o.debug);
	if ((s = daemon_load_schemas(in.o.schemas)) == NULL) {
		config_free(in.cfg);
		return 1;
	}
	if (flags.check) {
		printf("configuration OK\n");
		norm_schema_free(s);
		config_free(in.cfg);
		return 0;
	}
	/* Blocked before any thread exists, so every thread inherits the mask and the
	 * signals wait for sigtimedwait in run(). */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	start(&in, s);
	daemon_run(&signals, &(const struct daemon_loop){NULL, reload_cb, tick_cb}, &in);
	stop(&in);
	mqtt_free(in.mqtt);
	spool_close(in.spool);
	config_free(in.cfg);
	log_info("event=stopped");
	return 0;
}
