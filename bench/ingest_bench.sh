#!/bin/sh
# Ingest benchmark: how close citylink-ingest comes to the broker's own ceiling, and how it
# compares with a plain Python ingestor (bench/baseline_ingest.py), live and catching up a
# backlog, with CPU per message and peak memory. One private Mosquitto and PostgreSQL
# (tests/harness/servers.sh) serve the whole run; tables are truncated between scenarios.
# bench/README.md ("Ingest benchmark") says what each figure means.
#
#   sh bench/ingest_bench.sh
#
# Environment:
#   BENCH_N          messages per scenario (default 200000)
#   CITYLINK_INGEST  path of citylink-ingest; unset or not executable: its rows are skipped
#   MQTT_LOAD        the load generator (default build/mqtt-load: make build/mqtt-load)
#   BENCH_PYTHON     interpreter for the baseline (default /usr/bin/python3, which has
#                    Debian's python3-paho-mqtt and python3-psycopg2)
#   BENCH_TIMEOUT    seconds one consumer may take to take in N messages (default 600)
#
# The table goes to stdout, progress to stderr. Exit 0 if every scenario that ran passed.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/harness/servers.sh

N=${BENCH_N:-200000}
PY=${BENCH_PYTHON:-/usr/bin/python3}
MQTT_LOAD=${MQTT_LOAD:-build/mqtt-load}
TIMEOUT=${BENCH_TIMEOUT:-600}
CITYLINK_INGEST=${CITYLINK_INGEST:-}
DEVICES=1000
TOPIC='city/bench-aq/{device}'
FILTER='city/bench-aq/+'
PAYLOAD='{"device":"{device}","ts":{time_ms},"pm25":17.5,"temp":21.4,"hum":40}'
HZ=$(getconf CLK_TCK)
PIDS=""   # consumers we started and have not stopped yet
FAILED=0

# Mosquitto 2.0 drops what a client's queue holds beyond max_queued_messages (default
# 1000): a session that is away, or a consumer slower than the publisher, would lose all
# but 1000 messages. 0 lifts the limit (max_queued_bytes is 0, no limit, by default).
# max_inflight_messages (default 20) is also sent to MQTT 5 clients as Receive Maximum,
# which caps a publisher's unacknowledged window at 20 and halves the rate.
BROKER_CONF="max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
set_tcp_nodelay true"

# Polls count(*) every 50 ms until the table holds N rows, then prints the seconds since
# T0 (epoch) and the count. Gives up after the timeout or when the consumer (PID) is gone.
POLL_PY='
import sys, time, psycopg2
dsn, table, n, t0, timeout, pid = sys.argv[1:7]
n, t0, timeout, pid = int(n), float(t0), float(timeout), int(pid)
def gone():
    try:
        with open("/proc/%d/status" % pid) as f:
            return any(l.startswith("State:") and l.split()[1] == "Z" for l in f)
    except OSError:
        return True
db = psycopg2.connect(dsn)
db.autocommit = True
cur = db.cursor()
while True:
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    c = 0
    if cur.fetchone()[0]:
        cur.execute("SELECT count(*) FROM " + table)
        c = cur.fetchone()[0]
    t = time.time() - t0
    if c >= n:
        print("%.3f %d" % (t, c))
        sys.exit(0)
    if t > timeout or gone():
        print("%s with %d of %d rows in %s" % ("timed out after %.0f s" % t if t > timeout
              else "the consumer exited", c, n, table))
        sys.exit(1)
    time.sleep(0.05)
'

# The systemd notification socket, so that we know when citylink-ingest is subscribed.
NOTIFY_PY='
import socket, sys, time
path, timeout = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
end = time.time() + timeout
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        msg = s.recv(4096).decode(errors="replace")
    except socket.timeout:
        break
    if "READY=1" in msg.split("\n"):
        sys.exit(0)
sys.exit(1)
'

say() { echo "ingest_bench: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 > 0) printf "%.0f", n / s; else print "-" }'; }

# Alive and not a zombie (a child that exited but is not reaped yet).
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

# utime + stime of PID in seconds; peak resident memory (VmHWM) in MiB.
cpu_s() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$HZ" '{ printf "%.2f", ($12 + $13) / hz }'; }
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
per_100k() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.2f", (b - a) * 100000 / n }'; }

# Until FILE holds PATTERN; fails if PID is gone or SECONDS passed.
wait_line() {
	_end=$(($(date +%s) + $4))
	while ! grep -q "$2" "$1" 2>/dev/null; do
		alive "$3" && [ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05
	done
}

track() { PIDS="$PIDS $1"; }
untrack() { PIDS=$(echo " $PIDS " | sed "s/ $1 / /g"); }

# TERM (the consumers flush and commit on it), KILL after 30 s; reaps it.
stop() {
	kill -TERM "$1" 2>/dev/null
	_i=0
	while alive "$1" && [ $_i -lt 600 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack "$1"
}

# shellcheck disable=SC2317 # called from the EXIT trap
bench_cleanup() {
	for _p in $PIDS; do
		stop "$_p"
	done
	harness_cleanup
}

# ---- results ------------------------------------------------------------------------

# record SCENARIO CONSUMER SECONDS CPU_PER_100K PEAK_RSS_MB PUBLISH_RATE [NOTE]
record() {
	printf '%s %s %s %s %s %s %s %s\n' "$1" "$2" "$3" "$(rate "$N" "$3")" "$4" "$5" "$6" \
		"${7:-}" >>"$RESULTS"
	say "  $1 $2: $3 s, $(rate "$N" "$3") msg/s${7:+ ($7)}"
}

skip_row() { echo "$1 $2 - - - - - $3" >>"$RESULTS"; say "  $1 $2: $3"; }

fail_row() {
	FAILED=1
	skip_row "$1" "$2" "FAILED: $3"
}

field() { awk -v s="$1" -v c="$2" -v f="$3" '$1 == s && $2 == c { print $f }' "$RESULTS"; }

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-"; else printf "%.2f", a / b }'
}

print_ratio() { printf '%-38s %s\n' "ratio $1" "$2"; }

report() {
	printf '\n# citylink ingest benchmark: N=%s messages per scenario, %s devices, QoS 1\n' "$N" "$DEVICES"
	printf '# payload: %s bytes; %s CPUs; load average %s at start, %s at end\n' \
		"$(printf '%s' '{"device":"dev-00001","ts":1795252200000,"pm25":17.5,"temp":21.4,"hum":40}' | wc -c)" \
		"$(nproc)" "$LOAD_START" "$(cut -d' ' -f1 /proc/loadavg)"
	printf '# mosquitto %s: %s\n' "$("$MOSQUITTO" -h 2>&1 | sed -n 's/^mosquitto version //p')" \
		"$(echo "$BROKER_CONF" | paste -sd, - | sed 's/,/, /g')"
	printf '\n%-9s %-9s %9s %8s %11s %12s %14s  %s\n' scenario consumer seconds msg/s \
		cpu_s/100k peak_rss_MB publish_msg/s note
	while read -r sc co se ra cp rs pu note; do
		printf '%-9s %-9s %9s %8s %11s %12s %14s  %s\n' "$sc" "$co" "$se" "$ra" "$cp" "$rs" "$pu" "$note"
	done <"$RESULTS"
	echo
	for sc in live catch-up; do
		print_ratio "citylink/broker $sc (msg/s)" "$(ratio "$(field $sc citylink 4)" "$(field $sc broker 4)")"
		print_ratio "citylink/python $sc (msg/s)" "$(ratio "$(field $sc citylink 4)" "$(field $sc python 4)")"
		print_ratio "python/broker $sc (msg/s)" "$(ratio "$(field $sc python 4)" "$(field $sc broker 4)")"
		print_ratio "python/citylink $sc (peak rss)" "$(ratio "$(field $sc python 6)" "$(field $sc citylink 6)")"
		print_ratio "citylink/python $sc (cpu per msg)" "$(ratio "$(field $sc citylink 5)" "$(field $sc python 5)")"
		print_ratio "count-only/python $sc (cpu per msg)" "$(ratio "$(field $sc broker 5)" "$(field $sc python 5)")"
	done
	print_ratio "citylink/nofsync live (msg/s)" "$(ratio "$(field live citylink 4)" "$(field live nofsync 4)")"
	print_ratio "republish/citylink catch-up (msg/s)" "$(ratio "$(field catch-up republish 4)" "$(field catch-up citylink 4)")"
}

# ---- the pieces -----------------------------------------------------------------------

# publish NAME: N messages at full speed; sets PUB_RATE. Fails if the publisher did.
publish() {
	if ! "$MQTT_LOAD" publish --broker "$MQTT_URI" --topic "$TOPIC" --payload "$PAYLOAD" \
		--count "$N" --devices "$DEVICES" --client-id "bench-pub-$1" \
		>"$W/pub-$1.out" 2>"$W/pub-$1.log"; then
		PUB_ERR="publisher: $(tail -n 1 "$W/pub-$1.log")"
		return 1
	fi
	PUB_RATE=$(sed -n 's/.*(\([0-9]*\) msg\/s).*/\1/p' "$W/pub-$1.out")
}

# A consumer's session outlives it by an hour and would queue (and cost the broker) every
# later scenario's messages: a clean-start connection with its client id ends it.
end_session() {
	"$MQTT_LOAD" count --broker "$MQTT_URI" --topic "$FILTER" --count 0 --client-id "$1" \
		--quiet >/dev/null 2>>"$W/sessions.log" || say "cannot end the session of $1"
}

truncate_tables() {
	pg_sql -c "DO \$\$ DECLARE t text; BEGIN
		FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename IN
			('baseline_readings', 'std_bench_aq', 'devices', 'rejects')
		LOOP EXECUTE format('TRUNCATE %I', t); END LOOP; END \$\$" >/dev/null &&
		pg_sql -c CHECKPOINT >/dev/null
}

# start_poll TABLE T0 NAME CONSUMER_PID: the poller in the background (POLLER).
start_poll() {
	"$PY" -c "$POLL_PY" "$PG_CONNINFO" "$1" "$N" "$2" "$TIMEOUT" "$4" >"$W/poll-$3.out" 2>&1 &
	POLLER=$!
	track "$POLLER"
}

# end_poll NAME: waits for the poller; sets POLL_SECS, or POLL_ERR and fails.
end_poll() {
	POLL_NAME=$1
	wait "$POLLER"
	_rc=$?
	untrack "$POLLER"
	POLL_ERR=$(tail -n 1 "$W/poll-$1.out")
	POLL_SECS=$(cut -d' ' -f1 "$W/poll-$1.out")
	return $_rc
}

# The consumers: spawn_* sets CPID; ready_* waits until it is subscribed.
spawn_python() {
	"$PY" bench/baseline_ingest.py --broker "127.0.0.1:$MQTT_PORT" --dsn "$PG_CONNINFO" \
		--topic "$FILTER" --client-id "$1" >>"$W/python.out" 2>>"$W/python.log" &
	CPID=$!
	track "$CPID"
}

ready_python() { wait_line "$W/python.log" "subscribed.* as $1\$" "$CPID" 60; }

spawn_citylink() {
	rm -f "$W/notify.sock"
	"$PY" -c "$NOTIFY_PY" "$W/notify.sock" 120 &
	NPID=$!
	track "$NPID"
	while [ ! -S "$W/notify.sock" ] && alive "$NPID"; do sleep 0.02; done
	NOTIFY_SOCKET="$W/notify.sock" "$CITYLINK_INGEST" --broker "$MQTT_URI" --db "$PG_CONNINFO" \
		--schemas bench/schemas --spool "$W/spool" --client-id bench-ingest ${REPUBLISH:---no-republish} \
		--fsync "${FSYNC:-interval}" 2>>"$W/ingest.log" &
	CPID=$!
	track "$CPID"
}

# READY=1 comes once the database answers and the subscription is acknowledged; else
# READY_ERR says why not. Either way the listener is gone afterwards.
ready_citylink() {
	while alive "$NPID" && alive "$CPID"; do sleep 0.02; done
	if ! alive "$CPID"; then
		wait "$CPID"
		READY_ERR="citylink-ingest exited with status $?: $(tail -n 1 "$W/ingest.log")"
		untrack "$CPID"
		stop "$NPID"
		return 1
	fi
	wait "$NPID"
	_rc=$?
	untrack "$NPID"
	READY_ERR="no READY=1 on \$NOTIFY_SOCKET within 120 s"
	return $_rc
}

reap_notify() { stop "$NPID"; }

citylink_missing() {
	if [ -z "$CITYLINK_INGEST" ]; then
		echo "skipped: CITYLINK_INGEST is not set"
	elif [ ! -x "$CITYLINK_INGEST" ]; then
		echo "skipped: $CITYLINK_INGEST is not an executable"
	else
		return 1
	fi
}

# ---- a. broker ceiling, b. python, c. citylink: live --------------------------------

# The counter's CPU per 100k messages (it prints "..., cpu X.XX s"): Paho alone, the floor
# for any consumer built on it.
count_cpu() { per_100k 0 "$(sed -n 's/.*, cpu \([0-9.]*\) s$/\1/p' "$W/count-$1.out")"; }

live_broker() {
	"$MQTT_LOAD" count --broker "$MQTT_URI" --topic "$FILTER" --count "$N" \
		--client-id bench-count-live --timeout "$TIMEOUT" >"$W/count-live.out" 2>"$W/count-live.log" &
	_c=$!
	track "$_c"
	wait_line "$W/count-live.log" subscribed "$_c" 30 || { stop "$_c"; fail_row live broker "counter did not subscribe"; return; }
	publish live-broker || { stop "$_c"; fail_row live broker "$PUB_ERR"; return; }
	wait "$_c"
	_rc=$?
	untrack "$_c"
	[ $_rc -eq 0 ] || { fail_row live broker "counter: $(tail -n 1 "$W/count-live.log")"; return; }
	# "received N messages in X.XXX s (R msg/s) first-to-last"
	record live broker "$(awk '{ print $5 }' "$W/count-live.out")" "$(count_cpu live)" - "$PUB_RATE" first-to-last
}

# live_db CONSUMER TABLE CLIENT_ID: the consumer is up and subscribed; publish N, time
# until stored.
live_db() {
	_c0=$(cpu_s "$CPID")
	_t0=$(now)
	start_poll "$2" "$_t0" "live-$1" "$CPID"
	if ! publish "live-$1"; then
		stop "$POLLER"
		stop "$CPID"
		fail_row live "$1" "$PUB_ERR"
		return
	fi
	if ! end_poll "live-$1"; then
		stop "$CPID"
		fail_row live "$1" "$POLL_ERR"
		return
	fi
	_c1=$(cpu_s "$CPID")
	_rss=$(hwm_mb "$CPID")
	stop "$CPID"
	end_session "$3"
	record live "$1" "$POLL_SECS" "$(per_100k "$_c0" "$_c1")" "$_rss" "$PUB_RATE" \
		"first-publish-to-last-commit$(rows_note)"
}

# Stored rows, if not N (more would mean messages left over from another scenario).
rows_note() {
	_rows=$(cut -d' ' -f2 "$W/poll-$POLL_NAME.out")
	[ "$_rows" = "$N" ] || echo ", $_rows rows"
}

live_python() {
	truncate_tables || { fail_row live python "cannot truncate the tables"; return; }
	spawn_python bench-py-live
	ready_python bench-py-live || { stop "$CPID"; fail_row live python "baseline did not subscribe: $(tail -n 1 "$W/python.log")"; return; }
	live_db python baseline_readings bench-py-live
}

# live_citylink [NAME FSYNC]: the default spool fsync (interval), or another one, so the
# report can show what making each message durable before its PUBACK costs.
live_citylink() {
	_name=${1:-citylink}
	if _why=$(citylink_missing); then
		skip_row live "$_name" "$_why"
		return
	fi
	truncate_tables || { fail_row live "$_name" "cannot truncate the tables"; return; }
	FSYNC=${2:-interval}
	spawn_citylink
	FSYNC=interval
	ready_citylink || { stop "$CPID"; fail_row live "$_name" "$READY_ERR"; return; }
	live_db "$_name" std_bench_aq bench-ingest
}

# ---- d. catch-up: the session exists, the consumer is away, N messages queue ----------

catchup_broker() {
	_c="$MQTT_LOAD count --broker $MQTT_URI --topic $FILTER --session --client-id bench-count-cu --quiet"
	$_c --count 0 >/dev/null 2>"$W/count-cu.log" || { fail_row catch-up broker "session: $(tail -n 1 "$W/count-cu.log")"; return; }
	publish cu-broker || { fail_row catch-up broker "$PUB_ERR"; return; }
	_t0=$(now)
	$_c --count "$N" --timeout "$TIMEOUT" >"$W/count-cu.out" 2>>"$W/count-cu.log" ||
		{ fail_row catch-up broker "counter: $(tail -n 1 "$W/count-cu.log")"; return; }
	_secs=$(since "$_t0")
	end_session bench-count-cu
	record catch-up broker "$_secs" "$(count_cpu cu)" - "$PUB_RATE" \
		"start-to-last ($(awk '{ print $5 }' "$W/count-cu.out") s first-to-last)"
}

# catchup_db CONSUMER TABLE SPAWN_COMMAND CLIENT_ID: the session exists and the consumer
# is away.
catchup_db() {
	publish "cu-$1" || { fail_row catch-up "$1" "$PUB_ERR"; return 1; }
	_t0=$(now)
	$3
	start_poll "$2" "$_t0" "cu-$1" "$CPID"
	if ! end_poll "cu-$1"; then
		stop "$CPID"
		fail_row catch-up "$1" "$POLL_ERR"
		return 1
	fi
	_c1=$(cpu_s "$CPID")
	_rss=$(hwm_mb "$CPID")
	stop "$CPID"
	end_session "$4"
	# CPU from process start: includes start-up (imports, connections), well under 1 %.
	record catch-up "$1" "$POLL_SECS" "$(per_100k 0 "$_c1")" "$_rss" "$PUB_RATE" \
		"start-to-last-commit$(rows_note)"
}

catchup_python() {
	truncate_tables || { fail_row catch-up python "cannot truncate the tables"; return; }
	"$PY" bench/baseline_ingest.py --broker "127.0.0.1:$MQTT_PORT" --dsn "$PG_CONNINFO" \
		--topic "$FILTER" --client-id bench-py-cu --create-session-only 2>>"$W/python.log" ||
		{ fail_row catch-up python "session: $(tail -n 1 "$W/python.log")"; return; }
	catchup_db python baseline_readings "spawn_python bench-py-cu" bench-py-cu
}

# catchup_citylink [NAME REPUBLISH_FLAG]: as stored only (the yardsticks store only), or
# with --republish, the default in production, which also publishes every record on std/.
catchup_citylink() {
	_name=${1:-citylink}
	if _why=$(citylink_missing); then
		skip_row catch-up "$_name" "$_why"
		return
	fi
	truncate_tables || { fail_row catch-up "$_name" "cannot truncate the tables"; return; }
	REPUBLISH=${2:---no-republish}
	# Its session is its client id: start it once, wait until subscribed, stop it.
	spawn_citylink
	ready_citylink || { stop "$CPID"; fail_row catch-up "$_name" "$READY_ERR"; REPUBLISH=; return; }
	stop "$CPID"
	catchup_db "$_name" std_bench_aq spawn_citylink bench-ingest
	REPUBLISH=
	reap_notify
}

# ---- main -----------------------------------------------------------------------------

harness_skip_unless_servers
[ -x "$MQTT_LOAD" ] || { say "no load generator at $MQTT_LOAD: make build/mqtt-load (or set MQTT_LOAD)"; exit 1; }
"$PY" -c 'import paho.mqtt, psycopg2' 2>/dev/null ||
	{ say "$PY lacks paho-mqtt or psycopg2 (Debian: python3-paho-mqtt python3-psycopg2)"; exit 1; }
harness_init || exit 1
trap 'bench_cleanup' EXIT
W=$HARNESS_TMP/bench
RESULTS=$W/results
mkdir -p "$W"
: >"$RESULTS"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

say "starting PostgreSQL and Mosquitto"
pg_start || exit 1
IFS='
'
# shellcheck disable=SC2086 # split on newlines: one config line per argument
broker_start $BROKER_CONF || exit 1
unset IFS

say "a. broker ceiling, live: mqtt-load count while mqtt-load publish runs"
live_broker
say "b. Python baseline, live"
live_python
say "c. citylink-ingest, live"
live_citylink
say "c. citylink-ingest, live, spool never fsynced (what the fsync costs)"
live_citylink nofsync never
say "d. catch-up: count-only subscriber"
catchup_broker
say "d. catch-up: Python baseline"
catchup_python
say "d. catch-up: citylink-ingest"
catchup_citylink
say "d. catch-up: citylink-ingest publishing every record on std/ too (its default)"
catchup_citylink republish --republish

report
exit $FAILED
