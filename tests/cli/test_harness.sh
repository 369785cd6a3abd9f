#!/bin/sh
# The integration-test harness itself: a private PostgreSQL and Mosquitto come up on free
# ports, answer, and leave no process behind.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init

if pg_start; then pass; else fail "PostgreSQL starts"; fi
expect_eq "PostgreSQL answers" "$(pg_sql -c 'SELECT 40 + 2' 2>&1)" "42"
if broker_start "max_queued_messages 100000"; then pass; else fail "Mosquitto starts"; fi
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'city/#' -C 1 -W 5 >"$TMP/got" 2>&1 &
sub=$!
sleep 0.3
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t city/test/dev-1 -m '{"v":1}'
wait $sub
expect_eq "a message round-trips through the broker" "$(cat "$TMP/got")" '{"v":1}'

broker_pid=$(cat "$HARNESS_TMP/mqtt/broker.pid")
pg_pid=$(head -n 1 "$PG_HOST/data/postmaster.pid")
broker_stop
pg_stop
# A process that exited but is not yet reaped (a zombie) has stopped too.
alive() {
	state=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$state" ] && [ "${state#Z}" = "$state" ]
}
left=""
alive "$broker_pid" && left="$left mosquitto"
alive "$pg_pid" && left="$left postgres"
expect_eq "no server left running" "$left" ""
finish
