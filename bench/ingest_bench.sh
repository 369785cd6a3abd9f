#!/bin/sh
# citylink-ingest benchmark (make bench): live and catch-up throughput, CPU and peak RSS,
# next to the broker ceiling (a subscriber that only counts) and the Python baseline
# (bench/baseline_ingest.py), all measured in this run on one private broker + database.
# BENCH_N messages (default 200000), QoS 1, synchronous_commit on. Prints a table.
set -u
. tests/harness/servers.sh
harness_init
N=${BENCH_N:-200000}
B=${BUILD:-build/bench}
LOAD=$B/mqtt-load
INGEST=$B/citylink-ingest
PY=/usr/bin/python3
PAYLOAD='{"device":"{device}","ts":{time_ms},"pm25":17.5,"temp":21.4,"hum":40}'
pg_start && broker_start "max_queued_messages 0" "max_queued_bytes 0" "set_tcp_nodelay true" || exit 1
[ -x "$INGEST" ] || { echo "build $INGEST first"; exit 1; }
"$B/citylink" db migrate --db "$PG_CONNINFO" --schemas bench/schemas >/dev/null 2>&1

now() { date +%s.%N; }
publish() { "$LOAD" publish --broker "$MQTT_URI" --topic 'city/bench-aq/{device}' --payload "$PAYLOAD" --count "$N" --devices 1000 --inflight 1000 >/dev/null; }
rows() { pg_sql -c "SELECT (SELECT count(*) FROM std_bench_aq) + (SELECT count(*) FROM baseline_readings)" 2>/dev/null || pg_sql -c "SELECT count(*) FROM std_bench_aq"; }
wait_rows() { while [ "$(rows)" -lt "$N" ]; do sleep 0.05; done; }
truncate_all() { pg_sql -c "TRUNCATE std_bench_aq" >/dev/null; pg_sql -c "TRUNCATE baseline_readings" >/dev/null 2>&1; true; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
rate() { echo "$N $1 $2" | awk '{printf "%.0f", $1 / ($3 - $2)}'; }

start_citylink() {
	"$INGEST" --broker "$MQTT_URI" --db "$PG_CONNINFO" --schemas bench/schemas \
		--spool "$HARNESS_TMP/spool" --client-id bench-ingest --no-republish 2>"$HARNESS_TMP/ingest.log" &
	CPID=$!
	while ! grep -q event=ready "$HARNESS_TMP/ingest.log"; do sleep 0.05; done
}
start_python() {
	$PY bench/baseline_ingest.py --broker "127.0.0.1:$MQTT_PORT" --dsn "$PG_CONNINFO" \
		--client-id bench-python >"$HARNESS_TMP/py.log" 2>&1 &
	CPID=$!
	sleep 2
}
stop_consumer() { kill -TERM "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; }

# live: consumer running, publish N, time to the last row
live() {
	truncate_all
	"start_$1"
	c0=$(cpu "$CPID"); t0=$(now)
	publish
	wait_rows
	t1=$(now); c1=$(cpu "$CPID")
	LIVE=$(rate "$t0" "$t1"); CPU=$(echo "$c0 $c1 $N" | awk '{printf "%.2f", ($2 - $1) / 100 * 100000 / $3}'); RSS=$(hwm "$CPID")
	stop_consumer
}
# catch-up: N queued while the consumer is away, then the time to drain them
catchup() {
	truncate_all
	"start_$1"; stop_consumer
	publish
	t0=$(now)
	"start_$1"
	wait_rows
	t1=$(now)
	CATCH=$(rate "$t0" "$t1"); RSS2=$(hwm "$CPID")
	stop_consumer
}

# broker ceiling: a subscriber that only counts
"$LOAD" count --broker "$MQTT_URI" --topic 'city/bench-aq/#' --count "$N" --quiet >"$HARNESS_TMP/count.out" 2>&1 &
CP=$!; sleep 0.5; t0=$(now); publish; wait "$CP"; t1=$(now)
CEIL=$(rate "$t0" "$t1")
"$LOAD" count --broker "$MQTT_URI" --topic 'city/bench-aq/#' --count 0 --session --client-id bench-count >/dev/null 2>&1
publish; t0=$(now)
"$LOAD" count --broker "$MQTT_URI" --topic 'city/bench-aq/#' --count "$N" --session --client-id bench-count --quiet >/dev/null 2>&1
t1=$(now); CEIL_CATCH=$(rate "$t0" "$t1")

live python; PY_LIVE=$LIVE; PY_CPU=$CPU; PY_RSS=$RSS
catchup python; PY_CATCH=$CATCH
live citylink; CL_LIVE=$LIVE; CL_CPU=$CPU; CL_RSS=$RSS
catchup citylink; CL_CATCH=$CATCH; CL_RSS2=$RSS2

printf '\ncitylink-ingest benchmark, N=%s messages, QoS 1, synchronous_commit on\n' "$N"
printf '| %-34s | %12s | %12s | %12s |\n' "" "count-only" "python" "citylink"
printf '| %-34s | %12s | %12s | %12s |\n' "live msg/s (first publish->last row)" "$CEIL" "$PY_LIVE" "$CL_LIVE"
printf '| %-34s | %12s | %12s | %12s |\n' "catch-up msg/s (drain N queued)" "$CEIL_CATCH" "$PY_CATCH" "$CL_CATCH"
printf '| %-34s | %12s | %12s | %12s |\n' "CPU s per 100k messages (live)" "-" "$PY_CPU" "$CL_CPU"
printf '| %-34s | %12s | %12s | %12s |\n' "peak RSS KiB (live / catch-up)" "-" "$PY_RSS" "$CL_RSS / $CL_RSS2"
echo "$CL_LIVE $CEIL $CL_CATCH $PY_CATCH $CL_CPU $PY_CPU" | awk '{printf "ratios: live/ceiling %.2f, catch-up/python %.1fx, catch-up %d msg/s, CPU citylink/python %.2f\n", $1/$2, $3/$4, $3, $5/$6}'
