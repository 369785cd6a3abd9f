#!/bin/sh
# "Nothing lost": each fault during a stream, then exact counts by (device, seq): 0 lost,
# 0 duplicated. kill -9 of the ingest (3 times), PostgreSQL stopped for 10 s (fast and
# immediate), Mosquitto restarted, two instances sharing one group, and a negative control
# (the test-only volatile spool) that must show loss, proving the counts have teeth.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
. tests/ingest/lib.sh
trap 'ingest_cleanup; harness_cleanup; rm -rf "$TMP"' EXIT

# log_type all: the broker logs each PUBLISH it sends with its dup flag (d1 = redelivery).
pg_start && broker_start "max_queued_messages 0" "autosave_interval 1" "log_type all" ||
	{ fail "start servers"; finish; exit 1; }

# Every seq in [0, total) exactly once.
expect_exact() {
	expect_eq "$1: rows, distinct seqs" "$(ft_counts)" "$2 $2"
}
reset_table() { pg_sql -c "TRUNCATE std_fault_test; TRUNCATE rejects" >/dev/null; }
# Sum over the status messages seen, per client and pid, of the highest "duplicates".
redeliveries() {
	/usr/bin/python3 -c '
import json, sys
best = {}
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        s = json.loads(line.split(" ", 1)[1])
    except Exception:
        continue
    k = (s.get("client_id"), s.get("pid"))
    best[k] = max(best.get(k, 0), s.get("duplicates", 0))
print(sum(best.values()))' "$HARNESS_TMP/status.log"
}
mosquitto_sub -p "$MQTT_PORT" -V 5 -t 'citylink/status/ingest/#' -v >"$HARNESS_TMP/status.log" 2>/dev/null &
INGEST_PIDS="$INGEST_PIDS $!"

# 1. kill -9 three times during a 20k stream, each time after the process hung for a moment
#    (as when systemd's watchdog kills it), so that messages are in flight and redelivered.
ingest_start k
ingest_ready k || { fail "ingest ready"; finish; exit 1; }
publish_seq 20000 0 --rate 4000 &
P=$!
for i in 1 2 3; do
	sleep 1.2
	ingest_hang_kill9 k
	ingest_start k
done
wait "$P" || fail "publish during kills"
wait_sql "SELECT count(*) FROM std_fault_test" 20000 60 || true
expect_exact "kill -9 x3" 20000
sleep 1.5
redelivered=$(grep -c 'Sending PUBLISH to k (d1' "$HARNESS_TMP/mqtt/broker.log")
expect_eq "kill -9 x3: the broker redelivered ($redelivered messages; duplicates absorbed: $(redeliveries))" \
	"$([ "$redelivered" -gt 0 ] && echo yes)" "yes"
ingest_stop k

# 2. PostgreSQL stopped for 10 s mid-stream, then the same with -m immediate. The std/
#    stream is published before each commit: a batch read again after the outage is
#    stored, not published twice, so std/ carries every seq exactly once here too.
for mode in fast immediate; do
	reset_table
	ingest_start "pg$mode"
	ingest_ready "pg$mode" || fail "ready ($mode)"
	mosquitto_sub -p "$MQTT_PORT" -V 5 -q 1 -t 'std/fault-test/#' >"$HARNESS_TMP/std-$mode.out" 2>/dev/null &
	SUB=$!
	INGEST_PIDS="$INGEST_PIDS $SUB"
	sleep 0.3
	publish_seq 10000 0 --rate 2500 &
	P=$!
	sleep 1
	pg_stop "$mode"
	sleep 10
	pg_resume || fail "PostgreSQL restarts ($mode)"
	wait "$P" || fail "publish while PostgreSQL is down ($mode)"
	wait_sql "SELECT count(*) FROM std_fault_test" 10000 60 || true
	expect_exact "PostgreSQL down 10 s ($mode)" 10000
	sleep 1
	kill "$SUB"
	expect_eq "PostgreSQL down 10 s ($mode): std/ messages, distinct" \
		"$(wc -l <"$HARNESS_TMP/std-$mode.out") $(sort -u "$HARNESS_TMP/std-$mode.out" | wc -l)" "10000 10000"
	expect_contains "outage seen and ridden out ($mode)" "$(cat "$HARNESS_TMP/pg$mode.log")" "event=db_lost"
	ingest_stop "pg$mode"
done

# 3. Mosquitto restarted (SIGTERM) mid-stream: queued messages survive in its persistence.
reset_table
ingest_start br
ingest_ready br || fail "ready (broker)"
publish_seq 10000 0
broker_stop
broker_resume || fail "broker restarts"
publish_seq 10000 10000
wait_sql "SELECT count(*) FROM std_fault_test" 20000 60 || true
expect_exact "broker restart" 20000
expect_contains "reconnected after the broker restart" "$(cat "$HARNESS_TMP/br.log")" "event=mqtt_lost"
ingest_stop br

# 4. Two instances in one group split the stream.
reset_table
ingest_start g1 --group g
ingest_start g2 --group g
ingest_ready g1 && ingest_ready g2 || fail "group ready"
publish_seq 20000 0
wait_sql "SELECT count(*) FROM std_fault_test" 20000 60 || true
expect_exact "two instances, one group" 20000
sleep 1.5
split=$(/usr/bin/python3 -c '
import json, sys
last = {}
for line in open(sys.argv[1], encoding="utf-8"):
    topic, body = line.split(" ", 1)
    s = json.loads(body)
    if s.get("state") != "offline":
        last[s["client_id"]] = s.get("received", 0)
print("both" if last.get("g1", 0) > 0 and last.get("g2", 0) > 0 else last)' "$HARNESS_TMP/status.log")
expect_eq "both group members took a share" "$split" "both"
ingest_stop g1
ingest_stop g2

# 5. Negative control: with the spool made volatile (test-only switch), kill -9 loses.
reset_table
CITYLINK_TEST_VOLATILE_SPOOL=1 ingest_start v --batch-linger 300ms
ingest_ready v || fail "ready (volatile)"
publish_seq 20000 0 --rate 5000 &
P=$!
for i in 1 2 3; do
	sleep 1
	ingest_kill9 v
	CITYLINK_TEST_VOLATILE_SPOOL=1 ingest_start v --batch-linger 300ms
done
wait "$P"
sleep 5
got=$(pg_sql -c "SELECT count(DISTINCT seq) FROM std_fault_test")
expect_eq "negative control: the volatile spool loses messages ($got of 20000 stored)" "$([ "$got" -lt 20000 ] && echo lost)" "lost"
ingest_stop v
finish
