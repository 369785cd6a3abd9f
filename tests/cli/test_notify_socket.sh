#!/bin/sh
# The daemons speak systemd's notification protocol to a test NOTIFY_SOCKET
# (tests/deploy/notify_listen.py): READY=1 once the database and broker answer, WATCHDOG=1
# at half of WATCHDOG_USEC (the unit sets WatchdogSec; a ping later than the full period
# gets the service killed), STATUS= lines, and STOPPING=1 on SIGTERM. citylink-alerts is
# checked the same way once it is built. Correctness, not timing: tolerances are wide.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
pg_start && broker_start || { fail "start servers"; finish; exit 1; }
WATCHDOG_USEC=1000000

# check_daemon NAME BINARY [FLAGS]
check_daemon() {
	name=$1
	bin=$2
	shift 2
	sock=$HARNESS_TMP/notify-$name.sock
	out=$HARNESS_TMP/notify-$name.txt
	/usr/bin/python3 tests/deploy/notify_listen.py "$sock" "$out" &
	listener=$!
	for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
	# WATCHDOG_PID names the daemon itself: exec keeps the shell's pid.
	NOTIFY_SOCKET=$sock WATCHDOG_USEC=$WATCHDOG_USEC sh -c 'WATCHDOG_PID=$$ exec "$@"' sh \
		"$bin" --broker "$MQTT_URI" --db "$PG_CONNINFO" --schemas schemas \
		--client-id "notify-$name" --status-interval 1s "$@" >"$HARNESS_TMP/$name.log" 2>&1 &
	daemon=$!
	for _ in $(seq 1 300); do grep -q ' READY=1$' "$out" && break; sleep 0.1; done
	expect_contains "$name: READY=1" "$(cat "$out")" " READY=1"
	sleep 3
	kill -TERM "$daemon"
	wait "$daemon"
	expect_eq "$name: exit 0 on SIGTERM" "$?" "0"
	sleep 0.3
	kill -TERM "$listener"
	wait "$listener" 2>/dev/null
	# Pings after READY: how many, their mean and largest interval.
	stats=$(awk '$2 == "READY=1" { r = 1 } r && $2 == "WATCHDOG=1" {
			if (n > 0) { d = $1 - last; sum += d; if (d > max) max = d }
			last = $1; n++ }
		END { if (n > 1) printf "%d %.2f %.2f", n, sum / (n - 1), max; else print n }' "$out")
	echo "$name: WATCHDOG=1 after READY (count, mean s, max s): $stats"
	set -- $stats
	[ "${1:-0}" -ge 4 ] && pass || fail "$name: at least 4 WATCHDOG=1 in 3 s after READY (got: $stats)"
	# Half of 1 s, sent from a 100 ms tick: 0.5-0.6 s; never near the full second.
	awk -v m="${2:-0}" -v x="${3:-9}" 'BEGIN { exit !(m >= 0.4 && m <= 0.8 && x < 0.95) }' &&
		pass || fail "$name: WATCHDOG=1 every 0.4-0.8 s, none 0.95 s late (count, mean, max: $stats)"
	expect_contains "$name: STATUS= sent" "$(cat "$out")" " STATUS="
	expect_contains "$name: STOPPING=1 on SIGTERM" "$(tail -n 3 "$out")" " STOPPING=1"
}

check_daemon ingest "$BUILD/citylink-ingest" --spool "$HARNESS_TMP/spool"
check_daemon alerts "$BUILD/citylink-alerts"

# Without WATCHDOG_USEC there is no ping at all (the unit decides, not the daemon).
sock=$HARNESS_TMP/notify-plain.sock
/usr/bin/python3 tests/deploy/notify_listen.py "$sock" "$HARNESS_TMP/plain.txt" &
listener=$!
for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$sock "$BUILD/citylink-ingest" --broker "$MQTT_URI" --db "$PG_CONNINFO" \
	--schemas schemas --client-id notify-plain --spool "$HARNESS_TMP/spool-plain" \
	>"$HARNESS_TMP/plain.log" 2>&1 &
daemon=$!
for _ in $(seq 1 300); do grep -q ' READY=1$' "$HARNESS_TMP/plain.txt" && break; sleep 0.1; done
sleep 1
kill -TERM "$daemon"
wait "$daemon"
kill -TERM "$listener"
wait "$listener" 2>/dev/null
expect_eq "no WATCHDOG=1 without WATCHDOG_USEC" "$(grep -c ' WATCHDOG=1$' "$HARNESS_TMP/plain.txt")" "0"
expect_contains "READY=1 without a watchdog too" "$(cat "$HARNESS_TMP/plain.txt")" " READY=1"
finish
