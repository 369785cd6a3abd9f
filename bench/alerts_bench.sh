#!/bin/sh
# citylink-alerts latency benchmark (make bench): from a device publish to the staff notice
# a subscriber receives, through the whole chain (broker -> citylink-ingest -> std/ ->
# citylink-alerts -> staff/crew/notices), while background devices publish 1k and 10k
# msg/s that every rule evaluates but none raises. Next to it, measured in the same run at
# the same background rate: the plain broker round trip (publish -> subscribe). Probes
# are 50/s (bench/alerts_probe.py), each one a raise or a clear committed to PostgreSQL.
set -u
. tests/harness/servers.sh
harness_init
B=${BUILD:-build/bench}
PROBES=${BENCH_PROBES:-300}
SCHEMAS=bench/alerts-schemas
PY=/usr/bin/python3
pg_start && broker_start "max_queued_messages 0" "max_queued_bytes 0" "set_tcp_nodelay true" || exit 1
for p in citylink citylink-ingest citylink-alerts mqtt-load; do
	[ -x "$B/$p" ] || { echo "build $B/$p first"; exit 1; }
done
"$B/citylink" db migrate --db "$PG_CONNINFO" --schemas "$SCHEMAS" >/dev/null || exit 1

"$B/citylink-ingest" --broker "$MQTT_URI" --db "$PG_CONNINFO" --schemas "$SCHEMAS" \
	--spool "$HARNESS_TMP/spool" --client-id bench-ingest 2>"$HARNESS_TMP/ingest.log" &
IPID=$!
"$B/citylink-alerts" --broker "$MQTT_URI" --db "$PG_CONNINFO" --schemas "$SCHEMAS" \
	--client-id bench-alerts 2>"$HARNESS_TMP/alerts.log" &
APID=$!
trap 'kill $IPID $APID 2>/dev/null; harness_cleanup' EXIT
until grep -q event=ready "$HARNESS_TMP/ingest.log" && grep -q 'event=ready role=active' "$HARNESS_TMP/alerts.log"; do
	sleep 0.1
done

# Background load for the probes' duration plus a margin, at RATE msg/s over 1000 devices.
# --batch (a millisecond's worth of messages per send() on a bare socket): the devices are
# not on the platform's host, and through Paho 10k msg/s took a third of this machine's
# second core away from the chain being measured.
background() {
	n=$(( $1 * (PROBES / 50 + 3) ))
	"$B/mqtt-load" publish --broker "$MQTT_URI" --topic 'city/bench-level/{device}' \
		--payload '{"level": 10, "seq": {seq}, "ts": {time_ms}}' --count "$n" --devices 1000 \
		--rate "$1" --batch $(( $1 / 1000 )) --inflight 1000 \
		--time-base-ms "$(date +%s%3N)" --time-step-ms 1 \
		>/dev/null 2>"$HARNESS_TMP/load.log" &
	LPID=$!
	sleep 1
}

measure() { # RATE MODE -> "p50 p99 received sent"
	background "$1"
	out=$($PY bench/alerts_probe.py "$MQTT_PORT" "$2" 50 "$PROBES")
	wait "$LPID"
	echo "$out"
}

printf '\ncitylink-alerts latency, %s probes at 50/s, QoS 1, synchronous_commit on\n' "$PROBES"
printf '| %-10s | %-26s | %9s | %9s | %8s |\n' "background" "path" "p50 ms" "p99 ms" "received"
for rate in 1000 10000; do
	set -- $(measure "$rate" baseline)
	b50=$1 b99=$2
	printf '| %-10s | %-26s | %9s | %9s | %8s |\n' "$rate/s" "broker round trip" "$1" "$2" "$3/$4"
	set -- $(measure "$rate" ingest)
	printf '| %-10s | %-26s | %9s | %9s | %8s |\n' "$rate/s" "device -> std/ (ingest)" "$1" "$2" "$3/$4"
	set -- $(measure "$rate" chain)
	printf '| %-10s | %-26s | %9s | %9s | %8s |\n' "$rate/s" "device -> staff notice" "$1" "$2" "$3/$4"
	echo "$1 $2 $b50 $b99" | awk -v r="$rate" '{printf "ratios at %s/s: chain/broker p50 %.1fx, p99 %.1fx\n", r, $1/$3, $2/$4}'
done
