#!/bin/sh
# citylink-alerts keeps a `for:` that is still counting in PostgreSQL (alert_pending), against
# a real Mosquitto and PostgreSQL: a device that reported once (condition true) and went
# quiet is raised at the original record + for even across a kill -9, exactly once; a
# condition cancelled before the kill is not raised after it; a SIGHUP that removes the
# rule removes its rows.
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

# The shared test rules plus two of our own, in a copy (the other tests count the rules).
ALERTS_SCHEMAS=$HARNESS_TMP/schemas
cp -r tests/alerts/schemas "$ALERTS_SCHEMAS"
cat >>"$ALERTS_SCHEMAS/rules/test.yaml" <<'EOF'
  - id: level-hold4
    standard: alert-test
    devices: [dev-pend, dev-cancel]
    when: level > 50
    for: 4s
    clear: level < 30
    severity: severe
    notify: [crew]
    headline: "Level {level} for 4 s at {device}"
  - id: level-hold1h
    standard: alert-test
    devices: [dev-hold]
    when: level > 50
    for: 1h
    severity: minor
    notify: [crew]
    headline: "Level high for an hour at {device}"
  - id: level-keep1h
    standard: alert-test
    devices: [dev-keep]
    when: level > 50
    for: 1h
    severity: minor
    notify: [crew]
    headline: "Level high for an hour at {device}"
EOF
"$CITYLINK" db migrate --db "$PG_CONNINFO" --schemas "$ALERTS_SCHEMAS" >/dev/null || fail "migrate"
sub_start all 'staff/#'

pending() {
	pg_sql -c "SELECT count(*) FROM alert_pending WHERE device = '$1'"
}

# --- a for: counting at kill -9 raises at record + 4 s after the restart, once ---
alerts_start f1
wait_log f1 "event=subscribed" || fail "f1 did not subscribe"
t0=$(date +%s%3N)
rec dev-pend '{"level": 70}'
rec dev-cancel '{"level": 70}'
wait_sql "SELECT count(*) FROM alert_pending WHERE rule = 'level-hold4'" 2 3 && pass ||
	fail "pending for: not stored"
rec dev-cancel '{"level": 10}'
wait_sql "SELECT count(*) FROM alert_pending WHERE device = 'dev-cancel'" 0 3 && pass ||
	fail "cancelled for: still stored"
rec dev-pend '{"level": 75}' # still counting: the row keeps the first record's time
sleep 0.3
expect_eq "one row, from the first record" \
	"$(pg_sql -c "SELECT count(*) FROM alert_pending WHERE device = 'dev-pend' AND
		extract(epoch FROM since) * 1000 < $t0 + 300")" "1"
now=$(date +%s%3N)
[ $((now - t0)) -lt 1000 ] && sleep "0.$(printf '%03d' $((1000 - (now - t0))))"
alerts_kill9 f1
expect_eq "not raised before the kill" \
	"$(pg_sql -c "SELECT count(*) FROM alerts WHERE device IN ('dev-pend', 'dev-cancel')")" "0"
alerts_start f1
wait_log f1 "event=restored_pending count=1" 1 10 && pass || fail "pending for: not restored"
ID=level-hold4.dev-pend.1
wait_sql "SELECT state FROM alerts WHERE id = '$ID'" raised 8 && pass ||
	fail "never raised after the restart"
t1=$(date +%s%3N)
echo "raised $((t1 - t0)) ms after the record (restart at about 1000 ms)" >&2
# raised_at is since + for, since the daemon's arrival time of the first record.
late=$(pg_sql -c "SELECT (extract(epoch FROM raised_at) * 1000)::bigint - $t0 FROM alerts WHERE id = '$ID'")
[ "$late" -ge 4000 ] && [ "$late" -lt 4500 ] && pass ||
	fail "raised_at is $late ms after the record, not about 4000"
[ $((t1 - t0)) -lt 4000 ] && fail "raised $((t1 - t0)) ms after the record, before its for:" || pass
expect_eq "pending row gone with the raise" "$(pending dev-pend)" "0"
# Well past the raise (and past 4 s after the restart): nothing more may come.
while [ $(($(date +%s%3N) - t0)) -lt 6500 ]; do sleep 0.2; done
expect_eq "raised once" "$(events "$ID" raised)" "1"
expect_eq "one situation for dev-pend" \
	"$(pg_sql -c "SELECT count(*) FROM alerts WHERE device = 'dev-pend'")" "1"
expect_eq "cancelled before the kill: never raised" \
	"$(pg_sql -c "SELECT count(*) FROM alerts WHERE device = 'dev-cancel'")" "0"
expect_eq "one staff notice for the raise" \
	"$(count_lines all "^staff/crew/notices .*\"identifier\":\"$ID.1\"")" "1"
expect_eq "the raise carries the first record's values" \
	"$(count_lines all "^staff/crew/notices .*\"identifier\":\"$ID.1\".*\"headline\":\"Level 70 for 4 s at dev-pend\"")" "1"
expect_eq "stored with them" "$(pg_sql -c "SELECT last_values->'values'->>'level' FROM alerts WHERE id = '$ID'")" "70"

# --- a stale row (its rule gone while the daemon was down) is dropped at start ---
pg_sql -c "INSERT INTO alert_pending VALUES ('citylink-alerts', 'no-such-rule', 'dev-x', now())" >/dev/null
alerts_stop f1
alerts_start f1
wait_log f1 "event=pending_dropped rule=no-such-rule" 1 10 && pass || fail "stale row kept"
expect_eq "stale row deleted" "$(pending dev-x)" "0"

# --- SIGHUP: a rule that left the set takes its pending rows along ---
rec dev-hold '{"level": 90}'
rec dev-keep '{"level": 90}'
wait_sql "SELECT count(*) FROM alert_pending WHERE device IN ('dev-hold', 'dev-keep')" 2 3 && pass ||
	fail "1 h for: not stored"
sed -i 's/id: level-hold1h/id: level-hold1h-renamed/' "$ALERTS_SCHEMAS/rules/test.yaml"
kill -HUP "$(alerts_pid f1)"
wait_log f1 "event=reloaded" && pass || fail "reload not applied"
wait_sql "SELECT count(*) FROM alert_pending WHERE device = 'dev-hold'" 0 3 && pass ||
	fail "pending row of a removed rule kept over a reload"
expect_eq "a kept rule's row stays" "$(pending dev-keep)" "1"
alerts_stop f1
expect_eq "SIGTERM" "$?" "0"
if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$HARNESS_TMP"/*.log; then
	fail "sanitizer report"
else
	pass
fi
finish
