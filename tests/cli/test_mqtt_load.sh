#!/bin/sh
# The benchmarks' load generator, mqtt-load publish --batch (bench/wire_publish.c): every
# message arrives once, in order, at QoS 1 through a real Mosquitto; what it cannot do
# (TLS) is refused with a reason.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
trap 'harness_cleanup; rm -rf "$TMP"' EXIT
LOAD=$BUILD/mqtt-load

broker_start || { fail "Mosquitto starts"; finish; exit 1; }
mosquitto_sub -p "$MQTT_PORT" -V 5 -q 1 -t 'load/#' -C 5000 -W 30 >"$TMP/got" 2>&1 &
SUB=$!
sleep 0.3
out=$("$LOAD" publish --broker "$MQTT_URI" --topic 'load/{device}' --payload '{{seq}}' \
	--count 5000 --devices 7 --batch 64 --inflight 100 2>&1)
expect_contains "5000 published" "$out" "published 5000 messages"
wait "$SUB"
expect_eq "each seq once, in order" "$(tr -d '{}' <"$TMP/got" | awk '$1 != NR - 1 {bad++} END {print NR, bad + 0}')" "5000 0"
out=$("$LOAD" publish --broker "ssl://127.0.0.1:$MQTT_PORT" --topic t --payload x --count 1 --batch 8 2>&1)
expect_contains "TLS refused with a reason" "$out" "--batch needs a tcp://HOST:PORT broker"
finish
