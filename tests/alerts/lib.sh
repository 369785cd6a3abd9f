# Helpers for citylink-alerts' integration tests. Source after tests/cli/lib.sh and
# tests/harness/servers.sh; call harness_init, pg_start and broker_start first.
#   alerts_start NAME [FLAGS]   runs an instance (client id NAME, log $HARNESS_TMP/NAME.log,
#                               status every second) on tests/alerts/schemas or $ALERTS_SCHEMAS
#   alerts_stop NAME / alerts_kill9 NAME / alerts_pid NAME
#   wait_log NAME PATTERN [COUNT] [SECONDS]   until the log has COUNT lines matching PATTERN
#   rec DEVICE VALUES_JSON       publishes one std/alert-test/DEVICE record, time now
#   sub_start NAME FILTER        mosquitto_sub (MQTT 5, not Paho) writing "topic payload"
#                                lines to $HARNESS_TMP/NAME.sub
#   wait_lines NAME PATTERN COUNT SECONDS    until NAME.sub has COUNT lines matching
#   retained FILTER              the retained messages on FILTER now, one "topic payload" a line
ALERTS=$BUILD/citylink-alerts
ALERTS_SCHEMAS=${ALERTS_SCHEMAS:-tests/alerts/schemas}
BG_PIDS=""

alerts_start() {
	name=$1
	shift
	"$ALERTS" --broker "$MQTT_URI" --db "$PG_CONNINFO" --schemas "$ALERTS_SCHEMAS" \
		--client-id "$name" --status-interval 1s "$@" >>"$HARNESS_TMP/$name.log" 2>&1 &
	eval "PID_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$!"
	BG_PIDS="$BG_PIDS $!"
}

alerts_pid() {
	eval "echo \$PID_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)"
}

alerts_stop() {
	pid=$(alerts_pid "$1")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
}

alerts_kill9() {
	pid=$(alerts_pid "$1")
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

bg_cleanup() {
	for pid in $BG_PIDS; do kill -9 "$pid" 2>/dev/null; done
	return 0
}

wait_log() {
	for _ in $(seq 1 $((${4:-15} * 10))); do
		[ "$(grep -c -- "$2" "$HARNESS_TMP/$1.log" 2>/dev/null)" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	echo "$1: no ${3:-1} lines matching $2:" >&2
	tail -n 20 "$HARNESS_TMP/$1.log" >&2
	return 1
}

now_rfc3339() {
	date -u +%Y-%m-%dT%H:%M:%S.%3NZ
}

rec() {
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "std/alert-test/$1" -m \
		"{\"standard\":\"alert-test\",\"source\":\"at\",\"device\":\"$1\",\"time\":\"$(now_rfc3339)\",\"values\":$2}"
}

sub_start() {
	mosquitto_sub -p "$MQTT_PORT" -V mqttv5 -q 1 -v -t "$2" >>"$HARNESS_TMP/$1.sub" 2>&1 &
	BG_PIDS="$BG_PIDS $!"
}

wait_lines() {
	for _ in $(seq 1 $(($4 * 10))); do
		[ "$(grep -c -- "$2" "$HARNESS_TMP/$1.sub" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

count_lines() {
	grep -c -- "$2" "$HARNESS_TMP/$1.sub" 2>/dev/null
}

# Retained messages only: mosquitto_sub stops at the first live one or after 1 s.
retained() {
	mosquitto_sub -p "$MQTT_PORT" -V mqttv5 -v -t "$1" --retained-only -W 1 2>/dev/null
	return 0
}

events() {
	pg_sql -c "SELECT count(*) FROM alert_events WHERE alert_id = '$1' AND kind = '$2'"
}
