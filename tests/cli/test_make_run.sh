#!/bin/sh
# `make run` end to end: deploy/run.sh with its own CITYLINK_VAR (never ./var) and the
# build under test. Rows must reach every shipped standard's table within 60 s, bad
# payloads land in rejects, a situation reaches a staff topic for the demo staff account,
# anonymous clients are refused; SIGINT must stop every process it started; a second run
# reuses the ports and still has the rows. As root, the scratch dir is mode 0700 like a
# home directory, so this also covers the cluster and broker files living in /var/tmp.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
command -v mosquitto_sub >/dev/null || { echo "SKIP: mosquitto-clients is not installed"; exit 77; }

VARDIR=$TMP/var
RUNNER=""
PSQL="$PGBIN/psql"

cleanup() {
	[ -n "$RUNNER" ] && kill -TERM "$RUNNER" 2>/dev/null && sleep 5
	[ -L "$VARDIR/pg" ] && rm -rf "$(dirname "$(readlink "$VARDIR/pg")")"
	rm -rf "$TMP"
}
trap cleanup EXIT

# Starts deploy/run.sh in a new session with SIGINT at its default (a shell ignores it in
# background jobs, and a shell cannot trap a signal ignored on entry), like a terminal would.
start_runner() {
	CITYLINK_VAR=$VARDIR CITYLINK_SKIP_DEPS=1 CITYLINK_SKIP_BUILD=1 CITYLINK_BUILD=$BUILD \
		CITYLINK_SIM_ARGS="--rate 60 --devices 40" \
		python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp("sh", ["sh", "deploy/run.sh"])' >"$TMP/run$1.out" 2>&1 &
	RUNNER=$!
	for _ in $(seq 1 600); do
		grep -q 'citylink is running' "$TMP/run$1.out" 2>/dev/null && return 0
		kill -0 "$RUNNER" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/run$1.out" >&2
	return 1
}

db() {
	. "$VARDIR/ports"
	"$PSQL" "host=127.0.0.1 port=$PG_PORT user=postgres dbname=citylink" -XAtq -c "$1" 2>/dev/null
}

# Standards whose table is still empty, as "id id ...".
empty_standards() {
	for f in schemas/standards/*.yaml; do
		id=$(sed -n 's/^standard: *\([a-z0-9-]*\).*/\1/p' "$f")
		n=$(db "SELECT count(*) FROM std_$(echo "$id" | tr - _)")
		[ "${n:-0}" -gt 0 ] || printf '%s ' "$id"
	done
}

# Whether pid runs (an exited process whose parent has not reaped it yet does not: in a
# container without an init that reaps, a daemonized postmaster stays a zombie).
alive() {
	case "$(ps -o stat= -p "$1" 2>/dev/null)" in
	"" | Z*) return 1 ;;
	esac
	return 0
}

# Sends SIGINT and checks that the runner exits 0 and nothing it started is left.
stop_runner() {
	pids=$(cat "$VARDIR"/run/*.pid 2>/dev/null)
	kill -INT "$RUNNER"
	rc=timeout
	for _ in $(seq 1 300); do
		if ! kill -0 "$RUNNER" 2>/dev/null; then
			wait "$RUNNER"
			rc=$?
			break
		fi
		sleep 0.1
	done
	expect_eq "run $1: SIGINT exit status" "$rc" 0
	left=""
	for p in $pids; do alive "$p" && left="$left $(ps -o pid=,args= -p "$p")"; done
	expect_eq "run $1: started processes left after SIGINT" "$left" ""
	expect_eq "run $1: processes left in the runner's group" \
		"$(ps -eo pgid=,stat=,pid=,args= | awk -v g="$RUNNER" '$1 == g && $2 !~ /^Z/' | head -n 3)" ""
	files=$VARDIR
	[ -L "$VARDIR/pg" ] && files=$(dirname "$(readlink "$VARDIR/pg")")
	expect_eq "run $1: processes using the run's files" \
		"$(ps -eo stat=,pid=,args= | grep -F "$files" | grep -v -e grep -e '^Z' | head -n 3)" ""
	RUNNER=""
}

# ---- first run ----
if start_runner 1; then pass; else fail "run 1: did not come up"; finish; exit 1; fi
started=$(date +%s)
missing=$(empty_standards)
while [ -n "$missing" ] && [ $(($(date +%s) - started)) -lt 60 ]; do
	sleep 2
	missing=$(empty_standards)
done
expect_eq "standards without rows after 60 s" "$missing" ""
expect_contains "the runner prints a psql command" "$(cat "$TMP/run1.out")" "psql \"host=127.0.0.1"
expect_contains "the runner prints an ack command" "$(cat "$TMP/run1.out")" "staff/ack/"

. "$VARDIR/ports"
PW=$(cat "$VARDIR/secrets/demo-staff.pass")
alert=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u demo-staff -P "$PW" -t 'staff/#' -v -C 1 -W 30 2>&1)
case "$alert" in
staff/*) pass ;;
*) fail "no situation reached staff/# within 30 s (needs citylink-alerts): $alert" ;;
esac
anon=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'std/#' -C 1 -W 5 2>&1)
expect_contains "anonymous client refused" "$anon" "not authorised"
for _ in $(seq 1 20); do
	[ "$(db "SELECT count(*) > 0 FROM rejects")" = t ] && break
	sleep 1
done
expect_eq "bad payloads are in rejects" "$(db "SELECT count(*) > 0 FROM rejects WHERE reason LIKE '%not JSON%' OR reason LIKE '%range%'")" t
status=$("$BUILD/citylink" status --broker "mqtt://127.0.0.1:$MQTT_PORT" --username citylink-monitor \
	--password-file "$VARDIR/secrets/citylink-monitor.pass" 2>&1)
expect_contains "citylink status shows ingest" "$status" "ingest-local"

rows_before=$(db "SELECT count(*) FROM std_air_quality")
ports_before=$(cat "$VARDIR/ports")
stop_runner 1

# ---- second run: same data, same ports ----
if start_runner 2; then pass; else fail "run 2: did not come up"; finish; exit 1; fi
expect_eq "run 2 reuses the ports" "$(cat "$VARDIR/ports")" "$ports_before"
rows_after=$(db "SELECT count(*) FROM std_air_quality")
if [ "${rows_after:-0}" -ge "${rows_before:-1}" ] && [ "${rows_before:-0}" -gt 0 ]; then
	pass
else
	fail "run 2 lost rows: $rows_before before, $rows_after after"
fi
stop_runner 2

finish
