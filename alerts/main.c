/*
 * citylink-alerts: the rules of a schema set over the normalized stream (std/#), turned
 * into situations for staff groups (staff/<group>/...), acknowledged, escalated and
 * never lost across restarts.
 *
 * Roles: one instance per rule set is active, holding a PostgreSQL advisory lock
 * (leader.c); the others stand by, retrying the lock, connected to the broker only to
 * publish their status. The active instance alone connects with the rule set's
 * persistent MQTT session (client id = the rule set's name) and subscribes, so records
 * queue in the broker while no instance is active and nothing is consumed by a standby.
 *
 * Threads: the MQTT client's I/O thread evaluates each std/ record and ack in the message
 * callback (so a message is acknowledged to the broker only once its transitions are
 * committed); this main thread runs the clock (engine timers, escalation, reminders,
 * deadlines), signals, the lock, systemd notifications and the status. One mutex (mu)
 * serialises them. Nothing publishes while holding mu: changes queue their staff
 * messages (staff.c) under mu, and staff_flush sends them after mu is released, so a
 * publish that waits for the broker never holds up the other thread.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts/engine.h"
#include "alerts/leader.h"
#include "alerts/lifecycle.h"
#include "alerts/options.h"
#include "alerts/sitstore.h"
#include "alerts/staff.h"
#include "alerts/status.h"
#include "alerts/std_record.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/health.h"
#include "common/log.h"
#include "common/mqtt.h"
#include "common/schema_dir.h"
#include "common/sd_notify.h"
#include "common/secret.h"
#include "common/xmalloc.h"

#define LOCK_CHECK_MS 1000
#define DB_RETRY_MS 20000
#define LOCK_LOST_MS 30000
#define RESEND_CHECK_MS 10000

struct alerts {
	int argc;
	char **argv;
	struct config *cfg;
	struct alerts_options o;
	char client_id[160], status_topic[256], sender[256];
	pthread_mutex_t mu;          /* guards everything below against the MQTT I/O thread */
	struct norm_schema *schema;
	struct engine *engine;
	struct engine_events events;
	struct std_parser *parser;
	struct leader *leader;
	struct sitstore *store;
	struct staff *staff;
	struct life *life;
	struct mqtt *mqtt;           /* standby: status only; active: the rule set's session */
	int active;
	struct alerts_counters k;
	int64_t started_ms, next_status_ms, next_watchdog_ms, watchdog_ms, next_lock_ms;
	int64_t next_db_retry_ms, lock_lost_ms, next_resend_ms;
	int ready_sent;
	char last_error[512];
};

/* The in-memory state may be ahead of PostgreSQL: only a restart (which rebuilds from
 * PostgreSQL, and gets the unacknowledged message again) is safe. */
static void die_inconsistent(void)
{
	log_warnx("event=fatal reason=\"the database failed during a change; exiting so that "
		  "the restart rebuilds the situations from PostgreSQL\"");
	_exit(EXIT_FAILURE);
}

/* ---- configuration and schemas ---- */

static struct engine *make_engine(const struct norm_schema *s)
{
	struct engine *e = engine_create(s);

	if (e == NULL)
		fatalx("out of memory");
	engine_report_pending(e, 1); /* stored, so that a restart resumes them */
	return e;
}

/* SIGHUP: a new config, schema set and engine, built aside and swapped only when whole;
 * the engine carries over the state of every rule that is still there. */
static void reload(struct alerts *a)
{
	struct config_flags flags;
	struct config *c = daemon_read_config(alerts_option_defs, alerts_option_count, a->argc,
					      a->argv, &flags);
	struct norm_diags d = {0};
	struct alerts_options o;
	struct norm_schema *s, *old_schema;
	struct engine *e, *old_engine;

	if (c == NULL || config_reload_check(a->cfg, c, &d) != 0) {
		daemon_print_diags(&d);
		diags_clear(&d);
		config_free(c);
		log_warnx("event=reload_refused reason=\"configuration\" keeping=\"the running set\"");
		return;
	}
	alerts_options_read(c, &o, a->client_id, sizeof(a->client_id));
	if ((s = daemon_load_schemas(o.schemas)) == NULL) {
		log_warnx("event=reload_refused reason=\"schemas\" dir=%s keeping=\"the running set\"",
			  o.schemas);
		config_free(c);
		return;
	}
	e = make_engine(s);
	pthread_mutex_lock(&a->mu);
	if (engine_adopt_state(e, a->engine) != ENGINE_OK)
		fatalx("out of memory");
	old_engine = a->engine;
	old_schema = a->schema;
	a->engine = e;
	a->schema = s;
	if (a->life != NULL) {
		life_set_schema(a->life, s);
		/* Failing here is harmless: a restart drops the rows the rule set does not
		 * explain. */
		life_sync_pending(a->life, e);
	}
	config_free(a->cfg);
	a->cfg = c;
	a->o = o;
	pthread_mutex_unlock(&a->mu);
	engine_free(old_engine);
	norm_schema_free(old_schema);
	log_init("citylink-alerts", o.debug);
	log_info("event=reloaded schemas=%s", o.schemas);
}

/* ---- receiving (the MQTT client's I/O thread) ---- */

/* Makes sure the database answers, retrying for a while. 0, or -1 if it stays down. */
static int db_wait(struct alerts *a)
{
	char err[512];
	int64_t until = clock_mono_ms() + DB_RETRY_MS;

	while (sitstore_is_down(a->store)) {
		atomic_store(&a->k.db_up, 0);
		if (sitstore_reconnect(a->store, err, sizeof(err)) == 0)
			break;
		log_warnx("event=db_down error=\"%s\"", err);
		if (clock_mono_ms() >= until)
			return -1;
		clock_sleep_ms(1000);
	}
	atomic_store(&a->k.db_up, 1);
	return 0;
}

static int apply_events(struct alerts *a, int64_t now)
{
	int rc = 0;

	for (size_t i = 0; i < a->events.n && rc == 0; i++)
		rc = life_event(a->life, &a->events.ev[i], now);
	a->events.n = 0;
	return rc;
}

/* After a change failed half-way (the database went away, the in-memory state may be
 * ahead of it): waits for the database, then rebuilds the engine and the situations from
 * PostgreSQL as a restart would. 0, or -1 when the database stays away. Caller holds mu. */
static int recover(struct alerts *a)
{
	struct engine *e;
	char err[512];

	/* A fresh connection: the old one may look fine until its next query fails. */
	if (sitstore_reconnect(a->store, err, sizeof(err)) != 0 && db_wait(a) != 0)
		return -1;
	e = make_engine(a->schema);
	a->events.n = 0;
	life_free(a->life);
	a->life = life_create(a->store, a->staff, &a->k);
	life_set_schema(a->life, a->schema);
	if (life_restore(a->life, e, clock_wall_ms()) != 0) {
		engine_free(e);
		return -1;
	}
	engine_free(a->engine);
	a->engine = e;
	log_info("event=recovered reason=\"rebuilt from PostgreSQL after a database failure\"");
	return 0;
}

static int on_record(struct alerts *a, const char *topic, size_t tlen, const void *payload,
		     size_t len, int64_t now)
{
	struct std_record r;
	char err[512];

	if (std_record_parse(a->parser, a->schema, payload, len, &r, err, sizeof(err)) != STD_OK) {
		atomic_fetch_add(&a->k.records_refused, 1);
		log_warnx("event=record_refused topic=\"%.*s\" reason=\"%s\"", (int)tlen, topic, err);
		return 0;
	}
	atomic_fetch_add(&a->k.records, 1);
	if (engine_record(a->engine, &r, now, &a->events) != ENGINE_OK)
		fatalx("out of memory");
	return apply_events(a, now);
}

static int handle(struct alerts *a, const char *topic, size_t tlen, const void *payload,
		  size_t len, int64_t now)
{
	static const char ack_prefix[] = "staff/ack/";
	const size_t plen = sizeof(ack_prefix) - 1;
	char *id;
	int rc;

	if (tlen <= plen || memcmp(topic, ack_prefix, plen) != 0)
		return on_record(a, topic, tlen, payload, len, now);
	id = xstrndup(topic + plen, tlen - plen);
	rc = life_ack(a->life, id, payload, len, now);
	free(id);
	return rc;
}

static int on_message(void *ctx, const char *topic, size_t tlen, const void *payload, size_t len)
{
	struct alerts *a = ctx;
	int64_t now = clock_wall_ms();
	int rc = 0;

	pthread_mutex_lock(&a->mu);
	if (!a->active || db_wait(a) != 0) {
		pthread_mutex_unlock(&a->mu);
		return -1; /* not acknowledged: the broker keeps it for the next active instance */
	}
	/* A message whose change failed is applied again on the rebuilt state: its raise or
	 * clear is then found done, or done now. One the database refuses twice is dropped
	 * (logged, counted) on state rebuilt once more, rather than met again after every
	 * restart. */
	for (int attempt = 0; attempt < 2 && rc == 0; attempt++) {
		if (attempt > 0 && recover(a) != 0)
			die_inconsistent();
		if (handle(a, topic, tlen, payload, len, now) == 0)
			break;
		rc = attempt == 1 ? -1 : 0;
	}
	if (rc != 0) {
		if (recover(a) != 0)
			die_inconsistent();
		atomic_fetch_add(&a->k.records_refused, 1);
		log_warnx("event=message_dropped topic=\"%.*s\" reason=\"the database refused its "
			  "change twice (see the db_failed lines)\"", (int)tlen, topic);
	}
	pthread_mutex_unlock(&a->mu);
	staff_flush(a->staff);
	return 0;
}

/* ---- MQTT connections ---- */

static struct mqtt *make_mqtt(struct alerts *a, const char *client_id, uint32_t expiry_s)
{
	struct alerts_status will = {a->client_id, "offline", a->o.ruleset, 0, 0, NULL, NULL};
	char *will_json = alerts_status_json(&will);
	struct mqtt_options mo = {0};
	struct mqtt *m;

	mo.client_id = client_id;
	mo.session_expiry_s = expiry_s;
	mo.will_topic = a->status_topic;
	mo.will_payload = will_json;
	mo.will_retain = 1;
	m = daemon_mqtt_create(a->cfg, &mo, on_message, a);
	free(will_json);
	return m;
}

/* ---- becoming active ---- */

static void become_active(struct alerts *a)
{
	static const char *const filters[] = {"std/#", "staff/ack/+"};
	char err[512];
	struct mqtt *standby = a->mqtt;

	log_info("event=active ruleset=%s client_id=%s", a->o.ruleset, a->client_id);
	if ((a->store = sitstore_open(a->o.db, err, sizeof(err))) == NULL ||
	    sitstore_migrate(a->store, a->schema, err, sizeof(err)) != 0)
		fatalx("event=db_failed error=\"%s\"", err);
	sitstore_set_ruleset(a->store, a->o.ruleset);
	atomic_store(&a->k.db_up, 1);
	/* The standby connection goes first: the session connection reuses its will topic. */
	mqtt_pause(standby, 0);
	mqtt_free(standby);
	a->mqtt = make_mqtt(a, a->o.ruleset, a->o.session_expiry_s);
	mqtt_subscribe_set(a->mqtt, filters, 2);
	a->staff = staff_create(a->mqtt, a->sender, &a->k.publish_failed);
	a->life = life_create(a->store, a->staff, &a->k);
	pthread_mutex_lock(&a->mu);
	life_set_schema(a->life, a->schema);
	/* Restored before subscribing, so the first record meets the situations it may clear;
	 * what it publishes waits in the client's queue until the connection is up. */
	if (life_restore(a->life, a->engine, clock_wall_ms()) != 0)
		die_inconsistent();
	a->active = 1;
	pthread_mutex_unlock(&a->mu);
	staff_flush(a->staff);
	mqtt_start(a->mqtt);
	a->next_status_ms = 0;
}

/*
 * The lock's connection failed (a database restart). Taking the lock again at once keeps
 * this instance active, on state rebuilt from PostgreSQL, since another one may have held
 * it meanwhile. If another holds it now, or the database stays away for LOCK_LOST_MS,
 * this one ends: it can no longer know it is the only one acting.
 */
static void relock(struct alerts *a, int64_t now, const char *why)
{
	char err[400];
	int rc = leader_try(a->leader, err, sizeof(err));

	if (a->lock_lost_ms == 0) {
		a->lock_lost_ms = now;
		log_warnx("event=lock_lost error=\"%s\"", why);
	}
	if (rc == 1) {
		pthread_mutex_lock(&a->mu);
		if (recover(a) != 0)
			die_inconsistent();
		pthread_mutex_unlock(&a->mu);
		staff_flush(a->staff);
		a->lock_lost_ms = 0;
		log_info("event=lock_retaken ruleset=%s", a->o.ruleset);
		return;
	}
	if (rc == 0 || now - a->lock_lost_ms >= LOCK_LOST_MS) {
		log_warnx("event=fatal reason=\"lost the rule set's lock; another instance may be "
			  "active now\" error=\"%s\"", rc == 0 ? "another instance holds it" : err);
		_exit(EXIT_FAILURE);
	}
}

static void lock_step(struct alerts *a, int64_t now)
{
	char err[400];
	int rc;

	if (now < a->next_lock_ms)
		return;
	if (a->active) {
		a->next_lock_ms = now + LOCK_CHECK_MS;
		if (leader_check(a->leader, err, sizeof(err)) != 0)
			relock(a, now, err);
		return;
	}
	a->next_lock_ms = now + a->o.lock_retry_ms;
	rc = leader_try(a->leader, err, sizeof(err));
	if (rc < 0) {
		snprintf(a->last_error, sizeof(a->last_error), "lock: %s", err);
		log_warnx("event=lock_failed error=\"%s\"", err);
	} else if (rc == 1) {
		become_active(a);
	} else if (!a->ready_sent) {
		log_info("event=standby ruleset=%s reason=\"another instance is active\"", a->o.ruleset);
	}
	if (rc >= 0)
		a->last_error[0] = '\0';
}

/* ---- the clock ---- */

static void timers(struct alerts *a)
{
	int64_t now = clock_wall_ms();

	pthread_mutex_lock(&a->mu);
	if (a->active && !sitstore_is_down(a->store)) {
		if (engine_tick(a->engine, now, &a->events) != ENGINE_OK)
			fatalx("out of memory");
		life_mark_sent(a->life);
		if ((apply_events(a, now) != 0 || life_tick(a->life, now) != 0) && recover(a) != 0)
			die_inconsistent();
		if (clock_mono_ms() >= a->next_resend_ms) {
			a->next_resend_ms = clock_mono_ms() + RESEND_CHECK_MS;
			if (life_resend(a->life, now) != 0 && recover(a) != 0)
				die_inconsistent();
		}
	} else if (a->active && clock_mono_ms() >= a->next_db_retry_ms) {
		char err[512];
		a->next_db_retry_ms = clock_mono_ms() + 1000;
		atomic_store(&a->k.db_up, sitstore_reconnect(a->store, err, sizeof(err)) == 0);
		if (!atomic_load(&a->k.db_up))
			log_warnx("event=db_down error=\"%s\"", err);
	}
	pthread_mutex_unlock(&a->mu);
	if (a->staff != NULL)
		staff_flush(a->staff);
}

/* How long the main loop may sleep: until the next timer, at most DAEMON_TICK_MS. */
static long wait_ms(struct alerts *a)
{
	int64_t due = INT64_MAX, now = clock_wall_ms();

	pthread_mutex_lock(&a->mu);
	if (a->active) {
		due = engine_next_due(a->engine);
		int64_t l = life_next_due(a->life);
		due = l < due ? l : due;
	}
	pthread_mutex_unlock(&a->mu);
	/* A timer already due that tick() could not run (the database is away) must not
	 * turn the loop into a spin. */
	if (due <= now)
		return 5;
	return due - now < DAEMON_TICK_MS ? (long)(due - now) : DAEMON_TICK_MS;
}

/* ---- status ---- */

static const char *role(const struct alerts *a)
{
	return a->active ? "active" : a->ready_sent ? "standby" : "starting";
}

static void publish_status(struct alerts *a)
{
	char err[512] = "", line[400];
	struct alerts_status st = {a->client_id, role(a), a->o.ruleset, a->started_ms,
				   mqtt_ready(a->mqtt), err, &a->k};
	char *json;

	snprintf(err, sizeof(err), "%s", a->last_error);
	if (err[0] == '\0')
		mqtt_last_error(a->mqtt, err, sizeof(err));
	json = alerts_status_json(&st);
	alerts_status_line(&st, line, sizeof(line));
	health_send(a->mqtt, a->status_topic, json, line);
	free(json);
}

static void tick(struct alerts *a)
{
	int64_t now = clock_mono_ms();

	lock_step(a, now);
	timers(a);
	if (!a->ready_sent && (a->active ? mqtt_ready(a->mqtt) : a->last_error[0] == '\0') &&
	    a->next_lock_ms != 0) {
		a->ready_sent = 1;
		sd_notify_send("READY=1");
		log_info("event=ready role=%s client_id=%s", role(a), a->client_id);
		a->next_status_ms = now;
	}
	if (a->watchdog_ms > 0 && now >= a->next_watchdog_ms) {
		sd_notify_send("WATCHDOG=1");
		a->next_watchdog_ms = now + a->watchdog_ms / 2;
	}
	if (now >= a->next_status_ms) {
		publish_status(a);
		a->next_status_ms = now + a->o.status_interval_ms;
	}
}

static long wait_cb(void *ctx)
{
	return wait_ms(ctx);
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

static void start(struct alerts *a)
{
	a->started_ms = clock_wall_ms();
	health_topic("alerts", a->client_id, a->status_topic, sizeof(a->status_topic));
	snprintf(a->sender, sizeof(a->sender), "citylink-alerts@%s", a->o.ruleset);
	pthread_mutex_init(&a->mu, NULL);
	if ((a->parser = std_parser_create()) == NULL)
		fatalx("out of memory");
	a->engine = make_engine(a->schema);
	a->leader = leader_create(a->o.db, a->o.ruleset);
	/* A standby's own clean connection, for its status only. */
	a->mqtt = make_mqtt(a, a->client_id, 0);
	mqtt_start(a->mqtt);
	a->watchdog_ms = (int64_t)(sd_watchdog_usec() / 1000);
	log_info("event=started client_id=%s ruleset=%s broker=%s watchdog_ms=%lld", a->client_id,
		 a->o.ruleset, a->o.broker, (long long)a->watchdog_ms);
}

static void stop(struct alerts *a)
{
	sd_notify_send("STOPPING=1");
	if (a->staff != NULL)
		staff_flush(a->staff);
	/* Messages still arriving are handled as usual until the disconnect; what the broker
	 * sends later waits in the rule set's session for the next active instance. */
	if (mqtt_flush(a->mqtt, 2000) != 0)
		log_warnx("event=stop_unsent reason=\"publishes not acknowledged by the broker\"");
	mqtt_pause(a->mqtt, 1);
	mqtt_free(a->mqtt);
	life_free(a->life);
	staff_free(a->staff);
	sitstore_close(a->store);
	leader_free(a->leader); /* releases the lock: a standby takes over */
	engine_free(a->engine);
	free(a->events.ev);
	std_parser_free(a->parser);
	norm_schema_free(a->schema);
	pthread_mutex_destroy(&a->mu);
}

int main(int argc, char **argv)
{
	struct alerts a = {.argc = argc, .argv = argv};
	struct config_flags flags;
	sigset_t signals;

	log_init("citylink-alerts", 0);
	a.cfg = daemon_read_config(alerts_option_defs, alerts_option_count, argc, argv, &flags);
	if (flags.help) {
		config_usage(stdout, "citylink-alerts", alerts_option_defs, alerts_option_count);
		return 0;
	}
	if (flags.version) {
		printf("citylink-alerts %s\n", HEALTH_VERSION);
		return 0;
	}
	if (a.cfg == NULL)
		return 1;
	alerts_options_read(a.cfg, &a.o, a.client_id, sizeof(a.client_id));
	log_init("citylink-alerts", a.o.debug);
	if ((a.schema = daemon_load_schemas(a.o.schemas)) == NULL) {
		config_free(a.cfg);
		return 1;
	}
	if (flags.check) {
		printf("configuration OK\n");
		norm_schema_free(a.schema);
		config_free(a.cfg);
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

	start(&a);
	daemon_run(&signals, &(const struct daemon_loop){wait_cb, reload_cb, tick_cb}, &a);
	stop(&a);
	config_free(a.cfg);
	log_info("event=stopped");
	return 0;
}
