#!/bin/sh
# 100k messages across every shipped source and standard, with refused payloads mixed in,
# through a real Mosquitto, citylink-ingest and PostgreSQL: exact rows per table, each
# refused payload in rejects once with its reason, nothing else (tests/ingest/mixed.py).
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
. tests/ingest/lib.sh
trap 'ingest_cleanup; harness_cleanup; rm -rf "$TMP"' EXIT
PY=/usr/bin/python3
PLAN=$TMP/plan
SCHEMAS=schemas

pg_start && broker_start "max_queued_messages 0" || { fail "start servers"; finish; exit 1; }
if ! out=$("$PY" tests/ingest/mixed.py plan "$CITYLINK" "$SCHEMAS" 100000 2000 "$PLAN" 2>&1); then
	fail "plan the stream: $out"
	finish
	exit 1
fi
echo "$out"
ingest_start mixed --no-republish
ingest_ready mixed || { fail "ingest ready"; finish; exit 1; }

"$PY" tests/ingest/mixed.py publish "$MQTT_PORT" "$PLAN" >>"$HARNESS_TMP/publish.log" 2>&1 &&
	pass || fail "publish 100k: $(tail -n 1 "$HARNESS_TMP/publish.log")"
# Done when every planned row and reject is in (or the wait runs out and the checks say what
# is missing).
total_sql="SELECT $(awk '{ printf "%s(SELECT count(*) FROM %s)", (NR > 1 ? " + " : ""), $1 }' "$PLAN/tables")
	+ (SELECT coalesce(sum(count), 0) FROM rejects)"
want=$(($(awk '{ s += $2 } END { print s }' "$PLAN/tables") + $(wc -l <"$PLAN/rejects")))
wait_sql "$total_sql" "$want" 180 && pass || fail "all $want rows and rejects in (got $(pg_sql -c "$total_sql"))"
ingest_stop mixed
expect_eq "stopped cleanly" "$(grep -c 'event=stopped' "$HARNESS_TMP/mixed.log")" 1

"$PY" tests/ingest/mixed.py check "$PG_CONNINFO" "$PLAN" >"$TMP/check.out" 2>&1
while IFS= read -r line; do
	case $line in
	PASS*) pass ;;
	*) fail "$line" ;;
	esac
done <"$TMP/check.out"
grep -q PASS "$TMP/check.out" || fail "no checks ran: $(head -n 3 "$TMP/check.out")"
finish
