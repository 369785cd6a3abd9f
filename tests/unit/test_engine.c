/* The rule engine: for:, cancel, clear, delta/rate, silence, restore, reload, filters,
 * missing fields, and reading std/ records. Records go in as std/ JSON text. */
#include <inttypes.h>
#include <stdlib.h>

#include "alerts/engine.h"
#include "fixture.h"
#include "test.h"

static const char *const GROUPS = "groups: [env, duty]\n";

struct t {
	struct norm_schema *s;
	struct engine *e;
	struct std_parser *p;
	struct engine_events ev;
	char err[256];
};

static struct norm_schema *load(const char *rules)
{
	struct norm_diags d = {0};
	struct norm_schema *s = fixture_load(FIXTURE_AIR_QUALITY, NULL, NULL, NULL, rules, GROUPS, &d);
	if (s == NULL)
		fprintf(stderr, "fixture: %s\n", fixture_first(&d));
	diags_clear(&d);
	return s;
}

static int t_open(struct t *t, const char *rules)
{
	memset(t, 0, sizeof(*t));
	t->s = load(rules);
	t->e = t->s ? engine_create(t->s) : NULL;
	t->p = std_parser_create();
	return t->e != NULL && t->p != NULL ? 0 : -1;
}

static void t_close(struct t *t)
{
	engine_free(t->e);
	norm_schema_free(t->s);
	std_parser_free(t->p);
	free(t->ev.ev);
}

/* Feeds {"values": values} from device at record time time_s and arrival now_ms;
 * returns the number of events (they stay in t->ev until the next call), -1 on error. */
static int feed(struct t *t, const char *device, int64_t time_s, const char *values, int64_t now_ms)
{
	char json[1024];
	struct std_record r;
	int64_t m = time_s / 60, sec = time_s % 60;
	snprintf(json, sizeof(json),
		 "{\"standard\":\"air-quality\",\"source\":\"acme\",\"device\":\"%s\","
		 "\"time\":\"2026-11-21T09:%02" PRId64 ":%02" PRId64 ".000Z\",\"values\":{%s}}",
		 device, m, sec, values);
	t->ev.n = 0;
	if (std_record_parse(t->p, t->s, json, strlen(json), &r, t->err, sizeof(t->err)) != STD_OK) {
		fprintf(stderr, "parse: %s\n", t->err);
		return -1;
	}
	return engine_record(t->e, &r, now_ms, &t->ev) == ENGINE_OK ? (int)t->ev.n : -1;
}

static int tick(struct t *t, int64_t now_ms)
{
	t->ev.n = 0;
	return engine_tick(t->e, now_ms, &t->ev) == ENGINE_OK ? (int)t->ev.n : -1;
}

static const char *const PM_FOR =
	"rules:\n"
	"  - id: pm25-high\n"
	"    standard: air-quality\n"
	"    when: pm25 > 75\n"
	"    for: 10s\n"
	"    severity: severe\n"
	"    notify: [env]\n";

static void for_raises_from_tick(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(engine_next_due(t.e), INT64_MAX);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 1000), 0);
	ASSERT_INT_EQ(engine_next_due(t.e), 11000);
	ASSERT_INT_EQ(tick(&t, 10999), 0);
	ASSERT_INT_EQ(tick(&t, 11500), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_RAISE);
	ASSERT_STR_EQ(t.ev.ev[0].rule->id, "pm25-high");
	ASSERT_STR_EQ(t.ev.ev[0].device, "aq-1");
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 1000);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 11000);
	ASSERT_DBL_NEAR(t.ev.ev[0].values[1].number, 80, 0);
	ASSERT_INT_EQ(engine_next_due(t.e), INT64_MAX);
	ASSERT_INT_EQ(feed(&t, "aq-1", 20, "\"pm25\":90", 20000), 0); /* still active: no repeat */
	ASSERT_INT_EQ(engine_active_count(t.e), 1);
	t_close(&t);
}

static void for_raises_from_a_late_record(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 12, "\"pm25\":81", 12000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 10000);
	ASSERT_INT_EQ(tick(&t, 13000), 0);
	t_close(&t);
}

static void false_record_cancels_for(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 5, "\"pm25\":70", 5000), 0);
	ASSERT_INT_EQ(tick(&t, 10000), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 6, "\"pm25\":80", 6000), 0);
	ASSERT_INT_EQ(tick(&t, 15999), 0);
	ASSERT_INT_EQ(tick(&t, 16000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 6000);
	t_close(&t);
}

static void missing_field_neither_raises_nor_cancels(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 5, "\"temperature\":20", 5000), 0); /* unknown: no cancel */
	ASSERT_INT_EQ(tick(&t, 10000), 1);
	t_close(&t);

	/* not (unknown) stays unknown: no raise for a record without pm25. */
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: not (pm25 > 75) and "
			  "temperature > 0, severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"temperature\":20", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"temperature\":20,\"pm25\":10", 1000), 1);
	t_close(&t);

	/* ...but "or" with a true side is true, "and" with a false side false. */
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: pm25 > 75 or "
			  "temperature > 30, severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"temperature\":35", 0), 1);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"temperature\":20", 1000), 0); /* not(unknown or false) */
	ASSERT_INT_EQ(feed(&t, "aq-1", 2, "\"temperature\":20,\"pm25\":1", 2000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	t_close(&t);
}

static void clear_hysteresis(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: pm25 > 75, "
			  "clear: pm25 < 50, severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 0), 1);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"pm25\":60", 1000), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 2, "\"pm25\":80", 2000), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 3, "\"pm25\":49", 3000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 3000);
	ASSERT_INT_EQ(engine_active_count(t.e), 0);
	t_close(&t);
}

static void default_clear_is_not_when(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: \"state == 'fault'\", "
			  "severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"state\":\"fault\"", 0), 1);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"pm25\":3", 1000), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 2, "\"state\":\"ok\"", 2000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	t_close(&t);
}

static void delta_over_a_window(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: \"delta(pm25, 10m) >= 25\", "
			  "severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":10", 0), 0);   /* no history: unknown */
	ASSERT_INT_EQ(feed(&t, "aq-1", 300, "\"pm25\":34", 1), 0); /* ref: oldest, 10 -> 24 */
	ASSERT_INT_EQ(feed(&t, "aq-1", 600, "\"pm25\":35", 2), 1); /* ref at t-10m: 10 -> 25 */
	ASSERT_INT_EQ(feed(&t, "aq-1", 900, "\"pm25\":58", 3), 1); /* ref 34 (at 5m) -> 24 */
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1000, "\"pm25\":58", 4), 0); /* ref 34 (at 5m) -> 24 */
	/* An out-of-order record cannot be placed: unknown, and it does not enter history. */
	ASSERT_INT_EQ(feed(&t, "aq-1", 100, "\"pm25\":900", 5), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1500, "\"pm25\":83", 6), 1); /* ref 58 (at 15m) -> 25 */
	t_close(&t);
}

static void rate_between_records(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: \"rate(co2, 1m) > 100\", "
			  "severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"co2\":400", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 60, "\"co2\":500", 1), 0);  /* 100 per minute: not > */
	ASSERT_INT_EQ(feed(&t, "aq-1", 90, "\"co2\":560", 2), 1);  /* 60 in 30 s: 120/min */
	ASSERT_INT_EQ(feed(&t, "aq-1", 95, "\"pm25\":1", 3), 0);   /* no co2: unknown */
	ASSERT_INT_EQ(feed(&t, "aq-1", 150, "\"co2\":600", 4), 1); /* 40 in 60 s */
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	t_close(&t);
}

static void silence_raises_and_clears(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: quiet, standard: air-quality, silent: 1m, "
			  "severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":1", 0), 0);
	ASSERT_INT_EQ(engine_restore_seen(t.e, "air-quality", "aq-2", 30000), ENGINE_OK);
	ASSERT(engine_next_due(t.e) <= 60000);
	ASSERT_INT_EQ(tick(&t, 59999), 0);
	ASSERT_INT_EQ(engine_next_due(t.e), 60000);
	ASSERT_INT_EQ(tick(&t, 60000), 1);
	ASSERT_STR_EQ(t.ev.ev[0].device, "aq-1");
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 0);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 60000);
	ASSERT_INT_EQ(engine_next_due(t.e), 90000);
	ASSERT_INT_EQ(tick(&t, 95000), 1); /* known only from the restore */
	ASSERT_STR_EQ(t.ev.ev[0].device, "aq-2");
	ASSERT(t.ev.ev[0].values == NULL);
	ASSERT_INT_EQ(tick(&t, 200000), 0); /* raised once */
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"pm25\":1", 210000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	ASSERT_INT_EQ(tick(&t, 269999), 0);
	ASSERT_INT_EQ(tick(&t, 270000), 1);
	ASSERT_INT_EQ(engine_restore_seen(t.e, "no-such", "x", 0), ENGINE_EINVAL);
	t_close(&t);
}

static void silent_intervals_use_the_standard(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: quiet, standard: air-quality, silent: 2 intervals, "
			  "severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":1", 0), 0);
	ASSERT_INT_EQ(tick(&t, 599999), 0);
	ASSERT_INT_EQ(tick(&t, 600000), 1); /* 2 x 5m */
	t_close(&t);
}

static void restored_active_is_not_raised_again(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(engine_restore_active(t.e, "pm25-high", "aq-1"), ENGINE_OK);
	ASSERT_INT_EQ(engine_restore_active(t.e, "pm25-high", "aq-1"), ENGINE_OK);
	ASSERT_INT_EQ(engine_active_count(t.e), 1);
	ASSERT_INT_EQ(engine_is_active(t.e, "pm25-high", "aq-1"), 1);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 0), 0);
	ASSERT_INT_EQ(tick(&t, 60000), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 70, "\"pm25\":10", 70000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CLEAR);
	ASSERT_INT_EQ(engine_restore_active(t.e, "gone", "aq-1"), ENGINE_EINVAL);
	t_close(&t);
}

static void reload_adopts_state(void)
{
	static const char *const next =
		"rules:\n"
		"  - {id: new-rule, standard: air-quality, when: co2 > 1000, severity: minor, notify: [env]}\n"
		"  - {id: pm25-high, standard: air-quality, when: pm25 > 70, for: 10s, severity: severe,"
		" notify: [env]}\n"
		"  - {id: hot, standard: air-quality, when: temperature > 30, severity: minor,"
		" notify: [env], devices: [aq-9]}\n";
	struct t t, u;
	ASSERT(t_open(&t, "rules:\n  - {id: pm25-high, standard: air-quality, when: pm25 > 75, for: 10s,"
			  " severity: severe, notify: [env]}\n  - {id: hot, standard: air-quality,"
			  " when: temperature > 30, severity: minor, notify: [env]}\n") == 0);
	ASSERT(t_open(&u, next) == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80,\"location\":{\"lat\":37.5,\"lon\":127}", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-2", 0, "\"pm25\":80,\"temperature\":35", 0), 1); /* hot */
	ASSERT_INT_EQ(tick(&t, 10000), 2);
	ASSERT_INT_EQ(feed(&t, "aq-1", 12, "\"pm25\":90", 12000), 0);
	ASSERT_INT_EQ(feed(&t, "aq-3", 13, "\"pm25\":90", 13000), 0); /* pending */
	ASSERT_INT_EQ(engine_adopt_state(u.e, t.e), ENGINE_OK);
	ASSERT_INT_EQ(engine_active_count(u.e), 2); /* aq-1 and aq-2 pm25; aq-2 hot is filtered out */
	ASSERT_INT_EQ(engine_is_active(u.e, "hot", "aq-2"), 0);
	u.ev.n = 0;
	ASSERT_INT_EQ(engine_tick(u.e, 23000, &u.ev), ENGINE_OK);
	ASSERT_INT_EQ(u.ev.n, 1);
	ASSERT_STR_EQ(u.ev.ev[0].device, "aq-3");
	ASSERT_INT_EQ(u.ev.ev[0].since_ms, 13000);
	/* the last values and the location came along */
	ASSERT_INT_EQ(feed(&u, "aq-1", 30, "\"pm25\":71", 30000), 0); /* the new when still holds */
	ASSERT_INT_EQ(feed(&u, "aq-1", 31, "\"co2\":1200", 31000), 1);
	ASSERT_STR_EQ(u.ev.ev[0].rule->id, "new-rule");
	ASSERT_INT_EQ(u.ev.ev[0].has_location, 1);
	ASSERT_DBL_NEAR(u.ev.ev[0].lat, 37.5, 0);
	ASSERT_DBL_NEAR(u.ev.ev[0].values[1].number, 71, 0);
	ASSERT_STR_EQ(u.ev.ev[0].source, "acme");
	t_close(&t);
	t_close(&u);
}

static void device_filter(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: pm25 > 75, severity: minor,"
			  " notify: [env], devices: [aq-1, aq-7]}\n  - {id: all, standard: air-quality,"
			  " when: pm25 > 500, severity: minor, notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-2", 0, "\"pm25\":80", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-7", 0, "\"pm25\":80", 0), 1);
	ASSERT_INT_EQ(feed(&t, "aq-2", 1, "\"pm25\":600", 1), 1);
	ASSERT_STR_EQ(t.ev.ev[0].rule->id, "all");
	t_close(&t);
}

static void text_and_boolean_conditions(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: r, standard: air-quality, when: \"window_open and "
			  "note != 'ok' and co2 / 0 == 1 or note == 'x\\u00e9'\", severity: minor,"
			  " notify: [env]}\n") == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"window_open\":true,\"note\":\"hi\",\"co2\":5", 0), 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"note\":\"x\\u00e9\"", 0), 1);
	t_close(&t);
}

static void expect_bad(struct t *t, const char *json, const char *reason)
{
	struct std_record r;
	char err[256] = "";
	int rc = std_record_parse(t->p, t->s, json, strlen(json), &r, err, sizeof(err));
	if (rc != STD_INVALID || strcmp(err, reason) != 0) {
		fprintf(stderr, "%s\n  got:      %d %s\n  expected: %s\n", json, rc, err, reason);
		test_case_failed = 1;
	}
}

static void bad_std_json(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
#define REC(std, values) "{\"standard\":\"" std "\",\"source\":\"s\",\"device\":\"d\"," \
			 "\"time\":\"2026-11-21T09:10:00.123Z\",\"values\":" values "}"
	expect_bad(&t, "{\"standard\":", "not JSON (at byte 11)");
	expect_bad(&t, "", "not JSON (at byte 0)");
	expect_bad(&t, "[1]", "not a JSON object");
	expect_bad(&t, REC("air-quality", "{}") " x", "not JSON: data after the object (at byte 99)");
	expect_bad(&t, REC("water", "{}"), "unknown standard \"water\"");
	expect_bad(&t, REC("air-quality", "{\"pm99\":1}"), "values.pm99: not a field of air-quality");
	expect_bad(&t, REC("air-quality", "{\"pm25\":\"1\"}"), "values.pm25: expected a number");
	expect_bad(&t, REC("air-quality", "{\"co2\":1.5}"), "values.co2: expected an integer");
	expect_bad(&t, REC("air-quality", "{\"state\":\"meh\"}"),
		   "values.state: expected one of the field's values");
	expect_bad(&t, REC("air-quality", "{\"window_open\":1}"), "values.window_open: expected true or false");
	expect_bad(&t, REC("air-quality", "{\"location\":{\"lat\":91,\"lon\":0}}"),
		   "values.location: expected {\"lat\": -90..90, \"lon\": -180..180}");
	expect_bad(&t, REC("air-quality", "{\"pm25\":1,\"pm25\":2}"), "values.pm25: given twice");
	expect_bad(&t, REC("air-quality", "[]"), "\"values\" must be an object");
	expect_bad(&t, "{\"standard\":\"air-quality\",\"source\":\"s\",\"device\":\"d\",\"values\":{}}",
		   "missing \"time\"");
	expect_bad(&t, "{\"standard\":\"air-quality\",\"source\":\"s\",\"device\":\"\",\"time\":\"x\"}",
		   "\"device\" must be a non-empty string");
	expect_bad(&t, "{\"standard\":\"air-quality\",\"source\":\"s\",\"device\":\"d\","
		       "\"time\":\"2026-11-21T09:10:00\",\"values\":{}}",
		   "time: \"2026-11-21T09:10:00\" is not an RFC 3339 time with an offset");
	expect_bad(&t, "{\"standard\":\"air-quality\",\"source\":\"s\",\"device\":\"d\","
		       "\"time\":\"2026-11-21T09:10:00Z\"}", "missing \"values\"");
#undef REC
	t_close(&t);
}

static void good_std_json_round_trip(void)
{
	struct t t;
	struct std_record r;
	struct norm_buf b = {0};
	const char *json = "{\"standard\":\"air-quality\",\"source\":\"acme\",\"device\":\"aq-0042\","
			   "\"time\":\"2026-11-21T09:10:00.123Z\",\"values\":{\"pm25\":17.9,\"co2\":415,"
			   "\"window_open\":false,\"state\":\"maintenance\",\"note\":\"a\\\"b\","
			   "\"location\":{\"lat\":37.5665,\"lon\":126.978}}}";
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(std_record_parse(t.p, t.s, json, strlen(json), &r, t.err, sizeof(t.err)), STD_OK);
	ASSERT_INT_EQ(r.time_ms, 1795252200123LL);
	ASSERT_STR_EQ(r.device, "aq-0042");
	ASSERT_INT_EQ(r.values[6].enum_index, 2);
	ASSERT_INT_EQ(r.values[0].present, 0);
	/* ingest's writer gives the same text back */
	struct norm_source src = {.id = "acme", .standard = r.standard};
	struct norm_record rec = {.source = &src, .device = r.device, .time_ms = r.time_ms,
				  .values = r.values};
	ASSERT_INT_EQ(norm_record_json(&rec, &b), 0);
	ASSERT_STR_EQ(b.data, json);
	norm_buf_free(&b);
	t_close(&t);
}

static void pending_and_cancel_are_reported(void)
{
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 1000), 0); /* off by default */
	ASSERT_INT_EQ(feed(&t, "aq-1", 1, "\"pm25\":10", 2000), 0);
	engine_report_pending(t.e, 1);
	ASSERT_INT_EQ(feed(&t, "aq-1", 2, "\"pm25\":80", 3000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_PENDING);
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 3000);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 13000);
	ASSERT_INT_EQ(feed(&t, "aq-1", 3, "\"pm25\":85", 4000), 0); /* still counting: no write */
	ASSERT_INT_EQ(feed(&t, "aq-1", 4, "\"pm25\":10", 5000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_CANCEL);
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 3000);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 5000);
	ASSERT_INT_EQ(feed(&t, "aq-1", 5, "\"pm25\":10", 6000), 0); /* idle: nothing to cancel */
	ASSERT_INT_EQ(feed(&t, "aq-1", 6, "\"pm25\":80", 7000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_PENDING);
	ASSERT_INT_EQ(tick(&t, 17000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_RAISE);
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 7000);
	t_close(&t);
}

static void no_pending_for_a_rule_without_for(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: pm, standard: air-quality, when: pm25 > 75,"
			  " severity: minor, notify: [env]}\n") == 0);
	engine_report_pending(t.e, 1);
	ASSERT_INT_EQ(feed(&t, "aq-1", 0, "\"pm25\":80", 0), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_RAISE);
	ASSERT_INT_EQ(engine_restore_pending(t.e, "pm", "aq-2", 0), ENGINE_EINVAL);
	t_close(&t);
}

static void restored_pending_raises_without_a_record(void)
{
	struct t t;
	ASSERT(t_open(&t, "rules:\n  - {id: pm25-high, standard: air-quality, when: pm25 > 75,"
			  " for: 10s, severity: severe, notify: [env], devices: [aq-1, aq-2, aq-3]}\n"
			  "  - {id: quiet, standard: air-quality, silent: 1m, severity: minor,"
			  " notify: [env]}\n") == 0);
	ASSERT_INT_EQ(engine_restore_pending(t.e, "pm25-high", "aq-1", 1000), ENGINE_OK);
	ASSERT_INT_EQ(engine_restore_active(t.e, "pm25-high", "aq-2"), ENGINE_OK);
	ASSERT_INT_EQ(engine_restore_pending(t.e, "pm25-high", "aq-2", 1000), ENGINE_OK);
	ASSERT_INT_EQ(engine_restore_pending(t.e, "pm25-high", "aq-9", 1000), ENGINE_EINVAL);
	ASSERT_INT_EQ(engine_restore_pending(t.e, "gone", "aq-1", 1000), ENGINE_EINVAL);
	ASSERT_INT_EQ(engine_restore_pending(t.e, "quiet", "aq-1", 1000), ENGINE_EINVAL);
	ASSERT_INT_EQ(engine_is_pending(t.e, "pm25-high", "aq-1"), 1);
	ASSERT_INT_EQ(engine_is_pending(t.e, "pm25-high", "aq-2"), 0); /* active stays active */
	ASSERT_INT_EQ(engine_is_pending(t.e, "pm25-high", "aq-3"), 0);
	ASSERT_INT_EQ(engine_is_pending(t.e, "gone", "aq-1"), 0);
	ASSERT(engine_next_due(t.e) <= 11000);
	ASSERT_INT_EQ(tick(&t, 10999), 0);
	ASSERT_INT_EQ(tick(&t, 11000), 1);
	ASSERT_INT_EQ(t.ev.ev[0].kind, ENGINE_RAISE);
	ASSERT_STR_EQ(t.ev.ev[0].device, "aq-1");
	ASSERT_INT_EQ(t.ev.ev[0].since_ms, 1000);
	ASSERT_INT_EQ(t.ev.ev[0].at_ms, 11000);
	ASSERT(t.ev.ev[0].values == NULL); /* nothing restored them */
	ASSERT_INT_EQ(tick(&t, 20000), 0); /* once; aq-2 was active */
	ASSERT_INT_EQ(engine_is_pending(t.e, "pm25-high", "aq-1"), 0);
	t_close(&t);
}

static void restored_values_ride_with_the_raise(void)
{
	static const char json[] =
		"{\"standard\":\"air-quality\",\"source\":\"acme\",\"device\":\"aq-1\","
		"\"time\":\"2026-11-21T09:00:01.000Z\",\"values\":{\"pm25\":80}}";
	struct std_record r;
	struct t t;
	ASSERT(t_open(&t, PM_FOR) == 0);
	ASSERT_INT_EQ(std_record_parse(t.p, t.s, json, strlen(json), &r, t.err, sizeof(t.err)), STD_OK);
	ASSERT_INT_EQ(engine_restore_values(t.e, &r), ENGINE_OK);
	ASSERT_INT_EQ(engine_next_due(t.e), INT64_MAX); /* values alone start no timer */
	ASSERT_INT_EQ(engine_restore_pending(t.e, "pm25-high", "aq-1", 1000), ENGINE_OK);
	ASSERT_INT_EQ(tick(&t, 11000), 1);
	ASSERT(t.ev.ev[0].values != NULL);
	ASSERT_DBL_NEAR(t.ev.ev[0].values[1].number, 80, 0);
	ASSERT_STR_EQ(t.ev.ev[0].source, "acme");
	ASSERT_INT_EQ(t.ev.ev[0].time_ms, r.time_ms);
	t_close(&t);
}

static const struct test_case cases[] = {
	{"for_raises_from_tick", for_raises_from_tick},
	{"for_raises_from_a_late_record", for_raises_from_a_late_record},
	{"false_record_cancels_for", false_record_cancels_for},
	{"missing_field_neither_raises_nor_cancels", missing_field_neither_raises_nor_cancels},
	{"clear_hysteresis", clear_hysteresis},
	{"default_clear_is_not_when", default_clear_is_not_when},
	{"delta_over_a_window", delta_over_a_window},
	{"rate_between_records", rate_between_records},
	{"silence_raises_and_clears", silence_raises_and_clears},
	{"silent_intervals_use_the_standard", silent_intervals_use_the_standard},
	{"restored_active_is_not_raised_again", restored_active_is_not_raised_again},
	{"reload_adopts_state", reload_adopts_state},
	{"pending_and_cancel_are_reported", pending_and_cancel_are_reported},
	{"no_pending_for_a_rule_without_for", no_pending_for_a_rule_without_for},
	{"restored_pending_raises_without_a_record", restored_pending_raises_without_a_record},
	{"restored_values_ride_with_the_raise", restored_values_ride_with_the_raise},
	{"device_filter", device_filter},
	{"text_and_boolean_conditions", text_and_boolean_conditions},
	{"bad_std_json", bad_std_json},
	{"good_std_json_round_trip", good_std_json_round_trip},
	{NULL, NULL},
};

TEST_MAIN(cases)
