#!/bin/sh
# citylink-ingest end to end against a real Mosquitto and PostgreSQL (tests/harness):
# storage, rejects with reasons, duplicates and conflicts, the std/ stream, naughty
# strings, SIGHUP reloads (good and broken), rejects replay, status, SIGTERM.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
. tests/ingest/lib.sh
trap 'ingest_cleanup; harness_cleanup; rm -rf "$TMP"' EXIT
PY=/usr/bin/python3

pg_start && broker_start "max_queued_messages 0" || { fail "start servers"; finish; exit 1; }
cp -R tests/ingest/schemas "$TMP/schemas"
SCHEMAS=$TMP/schemas

# --check and a refused config.
out=$("$INGEST" --schemas "$SCHEMAS" --check 2>&1)
expect_eq "--check" "$out" "configuration OK"
printf 'broker = mqtt://x\nspool_mx = 1\n' >"$TMP/bad.conf"
out=$("$INGEST" --config "$TMP/bad.conf" --check 2>&1)
expect_contains "a bad config is refused with file:line:col" "$out" "$TMP/bad.conf:2:1: unknown key \"spool_mx\""

ingest_start main
ingest_ready main || { fail "ingest ready"; finish; exit 1; }
mosquitto_sub -p "$MQTT_PORT" -V 5 -t 'std/fault-test/dev-00007' -C 1 -W 20 >"$TMP/std.out" 2>&1 &
SUB=$!
sleep 0.5

publish_seq 2000 0 || fail "publish 2000"
wait_sql "SELECT count(*) FROM std_fault_test" 2000 30 && pass || fail "2000 rows stored (got $(ft_counts))"
expect_eq "every seq once" "$(ft_counts)" "2000 2000"
expect_eq "devices table" "$(pg_sql -c "SELECT count(*) FROM devices WHERE source = 'ft'")" "50"
expect_eq "checkpoint committed" "$(pg_sql -c "SELECT count(*) FROM ingest_checkpoints WHERE client_id = 'main'")" "1"
wait "$SUB"
expect_contains "republished on std/" "$(cat "$TMP/std.out")" '"standard":"fault-test","source":"ft","device":"dev-00007"'

# Bad payloads: one reject row each, with the reason.
pub() { mosquitto_pub -p "$MQTT_PORT" -V 5 -q 1 -t "$1" -m "$2"; }
pub city/ft/bad-1 '{"ts":1795252200000,"seq":1,"v":1.5'
pub city/ft/bad-2 '{"ts":1795252200000,"seq":2,"v":5000}'
pub city/ft/bad-3 '{"ts":1795252200000,"v":1}'
pub city/ft/bad-4 'null'
wait_sql "SELECT count(*) FROM rejects WHERE topic LIKE 'city/ft/bad-%'" 4 20 && pass || fail "4 rejects"
expect_eq "reject reasons" "$(pg_sql -c "SELECT topic || ' ' || reason || ' ' || source FROM rejects WHERE topic LIKE 'city/ft/bad-%' ORDER BY topic")" \
"city/ft/bad-1 payload is not JSON: unexpected end of input at byte 35 ft
city/ft/bad-2 value: 5000 is above the range -1000..1000 ft
city/ft/bad-3 seq: required field is missing ft
city/ft/bad-4 payload is not a JSON object (it is a single value) ft"

# The same message twice is one row; a different record for the same device and time is
# kept out of the table and shown in rejects.
pub city/ft/dup '{"ts":1795252200000,"seq":7,"v":1.5}'
pub city/ft/dup '{"ts":1795252200000,"seq":7,"v":1.5}'
pub city/ft/dup '{"ts":1795252200000,"seq":8,"v":2.5}'
wait_sql "SELECT count(*) FROM rejects WHERE topic = 'city/ft/dup'" 1 20 && pass || fail "conflict rejected"
expect_eq "duplicate stored once, first record kept" "$(pg_sql -c "SELECT count(*), min(seq), min(value) FROM std_fault_test WHERE device_id = 'dup'")" "1|7|1.5"
expect_eq "conflict reason" "$(pg_sql -c "SELECT reason FROM rejects WHERE topic = 'city/ft/dup'")" \
	"device dup already has a different fault-test record at 2026-11-21T09:10:00.000Z; the first one is kept"
pub city/ft/bad-2 '{"ts":1795252200000,"seq":2,"v":5000}'
wait_sql "SELECT count FROM rejects WHERE topic = 'city/ft/bad-2'" 2 20 && pass || fail "a repeated bad message counts, not a second row"

# Naughty strings round-trip byte for byte; none makes an extra row.
$PY tests/ingest/naughty.py "$MQTT_PORT" "$TMP/naughty.jsonl" || fail "publish naughty strings"
n=$(wc -l <"$TMP/naughty.jsonl")
wait_sql "SELECT count(*) FROM std_fault_test WHERE device_id = 'dev-naughty'" "$n" 30 || true
expect_eq "naughty strings" "$($PY tests/ingest/check_naughty.py "$TMP/naughty.jsonl" "$PG_CONNINFO")" \
	"sent=$n mismatches=0 missing=0 extra_rows=0"
expect_eq "no row for another device" "$(pg_sql -c "SELECT count(DISTINCT device_id) FROM std_fault_test")" "52"

# SIGHUP with a new source adds it without a restart.
cat >"$SCHEMAS/sources/ft2.yaml" <<-'YAML'
	source: ft2
	standard: fault-test
	topic: city/ft2/+
	format: json
	device: {topic: 3}
	time: {path: t, as: unix_s}
	fields:
	  seq: n
YAML
kill -HUP "$(ingest_pid main)"
# Stored once the new filter is subscribed (what is published before that reaches no one).
for _ in $(seq 1 100); do [ "$(grep -c 'event=subscribed' "$HARNESS_TMP/main.log")" -ge 2 ] && break; sleep 0.1; done
expect_contains "reload applied" "$(cat "$HARNESS_TMP/main.log")" "event=reloaded"
pub city/ft2/new-1 '{"t":1795252200,"n":42}'
wait_sql "SELECT seq FROM std_fault_test WHERE device_id = 'new-1'" 42 20 && pass || fail "new source stored after SIGHUP"

# SIGHUP with a broken file keeps the running set and says where the error is.
printf 'source: ft3\nstandard: no-such-standard\n' >"$SCHEMAS/sources/ft3.yaml"
kill -HUP "$(ingest_pid main)"
for _ in $(seq 1 100); do grep -q 'event=reload_refused' "$HARNESS_TMP/main.log" && break; sleep 0.1; done
expect_contains "broken reload refused" "$(cat "$HARNESS_TMP/main.log")" "event=reload_refused reason=\"schemas\""
expect_contains "broken reload names file:line" "$(cat "$HARNESS_TMP/main.log")" "$SCHEMAS/sources/ft3.yaml:2:"
pub city/ft2/new-2 '{"t":1795252200,"n":43}'
wait_sql "SELECT seq FROM std_fault_test WHERE device_id = 'new-2'" 43 20 && pass || fail "still ingesting with the old set"
rm "$SCHEMAS/sources/ft3.yaml"

# A mapping mistake, fixed by the author, then rejects replay moves the rows in.
pub city/ft2/fix-1 '{"t":1795252200,"sequence":1}'
pub city/ft2/fix-2 '{"t":1795252201,"sequence":2}'
wait_sql "SELECT count(*) FROM rejects WHERE topic LIKE 'city/ft2/fix-%'" 2 20 && pass || fail "unmapped field rejected"
out=$("$CITYLINK" rejects list --db "$PG_CONNINFO" --source ft2 2>&1)
expect_contains "rejects list" "$out" "seq: required field is missing"
sed -i 's/^  seq: n$/  seq: [n, sequence]/' "$SCHEMAS/sources/ft2.yaml"
out=$("$CITYLINK" rejects replay --db "$PG_CONNINFO" --schemas "$SCHEMAS" --source ft2 2>&1)
expect_contains "rejects replay" "$out" "2 now pass (2 records stored"
expect_eq "replayed rows in the table" "$(pg_sql -c "SELECT string_agg(device_id || '=' || seq, ',' ORDER BY device_id) FROM std_fault_test WHERE device_id LIKE 'fix-%'")" "fix-1=1,fix-2=2"
expect_eq "replayed rejects are gone" "$(pg_sql -c "SELECT count(*) FROM rejects WHERE topic LIKE 'city/ft2/fix-%'")" "0"
expect_contains "db migrate" "$("$CITYLINK" db migrate --db "$PG_CONNINFO" --schemas "$SCHEMAS" 2>&1)" "database migrated: 1 standards"

# citylink status shows the running ingest; SIGTERM exits 0 and the status says offline.
sleep 1.2
out=$("$CITYLINK" status --broker "$MQTT_URI" 2>/dev/null)
expect_contains "citylink status" "$out" "ingest   main"
expect_contains "status is running" "$out" "running"
ingest_stop main
expect_eq "SIGTERM exits 0" "$?" "0"
expect_contains "stopped cleanly" "$(cat "$HARNESS_TMP/main.log")" "event=stopped"
out=$("$CITYLINK" status --broker "$MQTT_URI" 2>/dev/null)
expect_contains "status offline after stop" "$out" "offline"

# A torn tail in the spool (what a crash mid-write leaves) is skipped, logged and reported.
seg=$(ls "$HARNESS_TMP/spool-main"/*.seg | tail -n 1)
printf 'torn entry: not a checksummed record' >>"$seg"
ingest_start main
ingest_ready main 2 || fail "ingest ready after a torn tail"
wait_for_log() { for _ in $(seq 1 100); do grep -q "$1" "$HARNESS_TMP/main.log" && return 0; sleep 0.1; done; return 1; }
wait_for_log "event=spool_damage_skipped bytes=36 " && pass ||
	fail "torn tail logged: $(grep spool_damage "$HARNESS_TMP/main.log")"
mosquitto_sub -p "$MQTT_PORT" -V 5 -t 'citylink/status/ingest/main' -C 1 -W 5 >"$TMP/st.json" 2>&1
expect_contains "status reports the skipped bytes" "$(cat "$TMP/st.json")" '"spool_damaged_bytes":36'
publish_seq 10 900000 || fail "publish after a torn tail"
wait_sql "SELECT count(*) FROM std_fault_test WHERE seq >= 900000" 10 20 && pass || fail "stores after a torn tail"
sleep 1.5
mosquitto_sub -p "$MQTT_PORT" -V 5 -t 'citylink/status/ingest/main' -C 1 -W 5 >"$TMP/st.json" 2>&1
expect_contains "the skipped bytes are not counted as backlog" "$(cat "$TMP/st.json")" '"spool_bytes":0,'
ingest_stop main
finish
