# Helpers for citylink-ingest's integration tests. Source after tests/cli/lib.sh and
# tests/harness/servers.sh, call harness_init, pg_start and broker_start first.
#   ingest_start NAME [FLAGS]  runs an instance in the background (client id NAME, spool
#                              $HARNESS_TMP/spool-NAME, log $HARNESS_TMP/NAME.log, status
#                              every second); ingest_ready NAME waits for READY
#   ingest_stop NAME / ingest_kill9 NAME / ingest_hang_kill9 NAME
#   publish_seq COUNT START [FLAGS]  COUNT messages with seq START.. to city/ft/<device>
#                                    (tests/ingest/publish.py)
INGEST=$BUILD/citylink-ingest
LOAD=$BUILD/mqtt-load
SCHEMAS=${SCHEMAS:-tests/ingest/schemas}
INGEST_PIDS=""

ingest_start() {
	name=$1
	shift
	"$INGEST" --broker "$MQTT_URI" --db "$PG_CONNINFO" --schemas "$SCHEMAS" \
		--spool "$HARNESS_TMP/spool-$name" --client-id "$name" --status-interval 1s "$@" \
		>>"$HARNESS_TMP/$name.log" 2>&1 &
	eval "PID_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$!"
	INGEST_PIDS="$INGEST_PIDS $!"
}

ingest_pid() {
	eval "echo \$PID_$(echo "$1" | tr -c 'a-zA-Z0-9\n' _)"
}

# Waits until NAME logged its n-th "event=ready" (n defaults to 1).
ingest_ready() {
	for _ in $(seq 1 300); do
		[ "$(grep -c 'event=ready' "$HARNESS_TMP/$1.log" 2>/dev/null)" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	echo "ingest $1 not ready:" >&2
	tail -n 20 "$HARNESS_TMP/$1.log" >&2
	return 1
}

ingest_stop() {
	pid=$(ingest_pid "$1")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

ingest_kill9() {
	pid=$(ingest_pid "$1")
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# A hung process killed by the watchdog: frozen first, so the broker has QoS 1 messages in
# flight to it (sent, never acknowledged) when it dies. Those must be redelivered; a plain
# kill -9 of a healthy ingest often lands between two messages and leaves nothing in flight.
ingest_hang_kill9() {
	pid=$(ingest_pid "$1")
	kill -STOP "$pid" 2>/dev/null
	sleep 0.3
	ingest_kill9 "$1"
}

ingest_cleanup() {
	for pid in $INGEST_PIDS; do kill -9 "$pid" 2>/dev/null; done
	return 0
}

publish_seq() {
	/usr/bin/python3 tests/ingest/publish.py "$MQTT_PORT" "$@" >>"$HARNESS_TMP/publish.log" 2>&1
}

# "rows distinct_seqs" of the fault-test table.
ft_counts() {
	pg_sql -c "SELECT count(*) || ' ' || count(DISTINCT seq) FROM std_fault_test"
}
