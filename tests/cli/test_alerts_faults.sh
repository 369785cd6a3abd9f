#!/bin/sh
# citylink-alerts under faults, against a real Mosquitto and PostgreSQL: kill -9 in the
# middle of an escalation (no duplicate raise, the escalation still fires once), a hot
# standby taking over within seconds, and broken rule sets refused on --check and SIGHUP
# with file:line while the running set stays.
set -u
REPO=${CITYLINK_REPO:-.}
cd "$REPO" || exit 1
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
command -v mosquitto_sub >/dev/null || { echo "SKIP: mosquitto-clients not installed"; exit 77; }
. tests/alerts/lib.sh

harness_init || exit 1
trap 'bg_cleanup; harness_cleanup; rm -rf "$TMP"' EXIT
pg_start || exit 1
broker_start || exit 1
"$CITYLINK" db migrate --db "$PG_CONNINFO" --schemas "$ALERTS_SCHEMAS" >/dev/null || fail "migrate"
sub_start all 'staff/#'

# --- kill -9 one second into a 3 s escalation; the restart escalates exactly once ---
alerts_start k1
wait_log k1 "event=subscribed" || fail "k1 did not subscribe"
ID=level-esc.dev-kill.1
rec dev-kill '{"level": 70}'
wait_sql "SELECT state FROM alerts WHERE id = '$ID'" raised 5 && pass || fail "kill: not raised"
sleep 1
alerts_kill9 k1
expect_eq "not escalated before the kill" "$(events $ID escalated)" "0"
rec dev-kill '{"level": 75}' # queued in the rule set's session while no instance runs
alerts_start k1
wait_log k1 "event=restored open=1" 1 10 && pass || fail "restart did not restore the situation"
wait_sql "SELECT escalation_level FROM alerts WHERE id = '$ID'" 1 8 && pass ||
	fail "escalation lost across kill -9"
rec dev-kill '{"level": 80}'
wait_log k1 "event=ready" 2 5
sleep 3.5 # past another escalation period and a reminder: nothing may repeat
expect_eq "one situation for dev-kill" "$(pg_sql -c "SELECT count(*) FROM alerts WHERE device = 'dev-kill'")" "1"
expect_eq "raised once" "$(events $ID raised)" "1"
expect_eq "escalated once" "$(events $ID escalated)" "1"
expect_eq "retained state republished" \
	"$(retained "staff/duty/alerts/$ID" | grep -c "\"escalation_level\":1")" "1"
alerts_stop k1

# --- hot standby: the second instance waits, consumes nothing, takes over within seconds ---
alerts_start s1
wait_log s1 "event=subscribed" || fail "s1 did not subscribe"
alerts_start s2
wait_log s2 "event=standby" && pass || fail "s2 is not a standby"
ID=level-esc.dev-take.1
rec dev-take '{"level": 66}'
wait_sql "SELECT state FROM alerts WHERE id = '$ID'" raised 5 && pass || fail "take: not raised"
expect_eq "standby consumed nothing" "$(grep -c 'event=situation_\|event=record_refused' "$HARNESS_TMP/s2.log")" "0"
t0=$(date +%s%3N)
alerts_kill9 s1
wait_log s2 "event=active" 1 10 && pass || fail "standby did not take over"
wait_log s2 "event=subscribed" 1 10 || fail "new active did not subscribe"
took=$(( $(date +%s%3N) - t0 ))
echo "takeover took ${took} ms" >&2
[ "$took" -lt 5000 ] && pass || fail "takeover took ${took} ms"
rec dev-take '{"level": 5}'
wait_sql "SELECT state FROM alerts WHERE id = '$ID'" closed 5 && pass || fail "new active did not clear"
expect_eq "one situation for dev-take" "$(pg_sql -c "SELECT count(*) FROM alerts WHERE device = 'dev-take'")" "1"
alerts_stop s2

# --- a PostgreSQL restart: the instance stays active, nothing is lost or doubled ---
alerts_start p1
wait_log p1 "event=subscribed" || fail "p1 did not subscribe"
rec dev-pg '{"level": 70}'
wait_sql "SELECT count(*) FROM alerts WHERE id = 'level-esc.dev-pg.1'" 1 5 && pass || fail "pg: not raised"
pg_stop fast
rec dev-pg2 '{"level": 71}' # waits in the callback until the database is back
sleep 2
pg_resume || fail "PostgreSQL did not restart"
wait_log p1 "event=lock_retaken" 1 10 && pass || fail "lock not retaken"
wait_sql "SELECT count(*) FROM alerts WHERE id = 'level-esc.dev-pg2.1'" 1 10 && pass ||
	{ fail "record sent during the outage was lost"; grep -v reminded "$HARNESS_TMP/p1.log" | tail -n 30 >&2; }
rec dev-pg '{"level": 1}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-esc.dev-pg.1'" closed 5 && pass ||
	fail "pg: not closed after the restart"
expect_eq "one situation each" \
	"$(pg_sql -c "SELECT count(*) FROM alerts WHERE device IN ('dev-pg', 'dev-pg2')")" "2"
kill -0 "$(alerts_pid p1)" && pass || fail "p1 exited over a database restart"
alerts_stop p1

# --- broken rules: --check and SIGHUP refuse with file:line, the running set stays ---
DIR=$HARNESS_TMP/schemas
cp -r "$ALERTS_SCHEMAS" "$DIR"
ALERTS_SCHEMAS=$DIR
alerts_start h1
wait_log h1 "event=subscribed" || fail "h1 did not subscribe"
sed -i 's/when: delta(level, 1m) > 20/when: delta(levl, 1m) > 20/' "$DIR/rules/test.yaml"
out=$("$ALERTS" --schemas "$DIR" --check 2>&1)
expect_eq "--check exit status" "$?" "1"
line=$(grep -n 'delta(levl' "$DIR/rules/test.yaml" | cut -d: -f1)
expect_contains "--check names file:line" "$out" "$DIR/rules/test.yaml:$line:"
expect_contains "--check says why" "$out" "levl"
kill -HUP "$(alerts_pid h1)"
wait_log h1 "event=reload_refused" && pass || fail "broken reload not refused"
expect_contains "reload names file:line" "$(cat "$HARNESS_TMP/h1.log")" "rules/test.yaml:$line:"
rec dev-delta2 '{"level": 1}'
rec dev-esc '{"level": 90}' # the old set still runs
wait_sql "SELECT state FROM alerts WHERE id = 'level-esc.dev-esc.1'" raised 5 && pass ||
	fail "old rule set stopped running after a refused reload"
sed -i 's/delta(levl, 1m)/delta(level, 1m)/; s/devices: \[dev-delta\]/devices: [dev-delta, dev-delta2]/' "$DIR/rules/test.yaml"
kill -HUP "$(alerts_pid h1)"
wait_log h1 "event=reloaded" && pass || fail "good reload not applied"
rec dev-delta2 '{"level": 40}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-jump.dev-delta2.1'" raised 5 && pass ||
	fail "reloaded rule does not run"
kill -0 "$(alerts_pid h1)" && pass || fail "h1 died"

# Two rule sets on one database: each active instance keeps to its own situations.
alerts_start r2 --ruleset other-set
wait_log r2 "event=subscribed" && pass || fail "second rule set not subscribed"
rec dev-rs '{"level": 60}'
open_rs="SELECT count(*) || ' ' || count(DISTINCT ruleset) FROM alerts WHERE rule = 'level-esc' AND device = 'dev-rs' AND state <> 'closed'"
wait_sql "$open_rs" "2 2" 10 && pass || fail "one open situation per rule set (got $(pg_sql -c "$open_rs"))"
alerts_stop h1
alerts_start h1
wait_log h1 "event=subscribed" 2 && pass || fail "h1 subscribed again"
sleep 2
expect_eq "a restart leaves the other rule set's situation open" "$(pg_sql -c "$open_rs")" "2 2"
alerts_stop r2
alerts_stop h1
expect_eq "SIGTERM after reloads" "$?" "0"
if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$HARNESS_TMP"/*.log; then
	fail "sanitizer report"
else
	pass
fi
finish
