#!/bin/sh
# citylink-alerts end to end against a real Mosquitto and PostgreSQL: every rule form
# (for:, hysteresis, delta, rate, silence, deadline, re-raise interval), escalation,
# reminders, acknowledgement by a non-Paho client (mosquitto_pub/sub, MQTT 5), retained
# state for late subscribers, bad acks, manual notices, and records through a real ingest.
# Timings come from the rules in tests/alerts/schemas (seconds); every wait polls.
set -u
REPO=${CITYLINK_REPO:-.}
cd "$REPO" || exit 1
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
command -v mosquitto_sub >/dev/null || { echo "SKIP: mosquitto-clients not installed"; exit 77; }
. tests/alerts/lib.sh
SCHEMAS=tests/alerts/schemas
. tests/ingest/lib.sh

harness_init || exit 1
trap 'bg_cleanup; ingest_cleanup; harness_cleanup; rm -rf "$TMP"' EXIT
pg_start || exit 1
broker_start || exit 1

# --- check and rules check ---
out=$("$ALERTS" --schemas "$ALERTS_SCHEMAS" --check 2>&1)
expect_eq "--check" "$out" "configuration OK"
out=$("$CITYLINK" rules check --schemas "$ALERTS_SCHEMAS" 2>&1)
expect_eq "rules check" "$out" "rules OK: 7 rules, 3 groups"

out=$("$CITYLINK" db migrate --db "$PG_CONNINFO" --schemas "$ALERTS_SCHEMAS" 2>&1)
expect_eq "migrate" "$out" "database migrated: 1 standards"

sub_start all 'staff/#'
alerts_start a1
wait_log a1 "event=subscribed" 1 15 || fail "alerts did not subscribe"
wait_log a1 "event=ready role=active" 1 5 && pass || fail "alerts not ready"

# --- for: the raise comes no earlier than 2 s after the condition started ---
t0=$(date +%s%3N)
rec dev-for '{"level": 60}'
rec dev-for '{"level": 62}'
wait_sql "SELECT count(*) FROM alerts WHERE id = 'level-for.dev-for.1'" 1 8 && pass ||
	fail "for: no situation"
held=$(pg_sql -c "SELECT (extract(epoch FROM raised_at) * 1000)::bigint - $t0 >= 2000 FROM alerts WHERE id = 'level-for.dev-for.1'")
expect_eq "for: raised after 2 s" "$held" "t"
# A condition that stops holding within for: raises nothing (dev-ingest shares the rule).
rec dev-ingest '{"level": 70}'
rec dev-ingest '{"level": 10}'

# --- hysteresis: 40 is under the when (50) but over the clear (30) ---
rec dev-for '{"level": 40}'
rec dev-for '{"level": 20}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-for.dev-for.1'" closed 5 && pass ||
	fail "hysteresis: not closed"
expect_eq "hysteresis: closed by the record under 30" \
	"$(pg_sql -c "SELECT last_values->'values'->>'level' FROM alerts WHERE id = 'level-for.dev-for.1'")" "20"
expect_eq "hysteresis: one clear" "$(events level-for.dev-for.1 cleared)" "1"
expect_eq "cancelled for: raised nothing" \
	"$(pg_sql -c "SELECT count(*) FROM alerts WHERE device = 'dev-ingest'")" "0"

# --- delta and rate ---
rec dev-delta '{"level": 10}'
rec dev-delta '{"level": 35}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-jump.dev-delta.1'" raised 5 && pass ||
	fail "delta: no situation"
rec dev-rate '{"count": 0}'
sleep 0.3
rec dev-rate '{"count": 1000}'
wait_sql "SELECT state FROM alerts WHERE id = 'count-rate.dev-rate.1'" raised 5 && pass ||
	fail "rate: no situation"

# --- silence: raised 2 s after the last record, closed by the next one ---
rec dev-silent '{"level": 1}'
wait_sql "SELECT state FROM alerts WHERE id = 'quiet.dev-silent.1'" raised 6 && pass ||
	fail "silent: not raised"
rec dev-silent '{"level": 1}'
wait_sql "SELECT state FROM alerts WHERE id = 'quiet.dev-silent.1'" closed 5 && pass ||
	fail "silent: not closed by a record"

# --- escalation after 3 s with reminders every 2 s, then an ack stops both ---
rec dev-esc '{"level": 60, "location": {"lat": 37.5665, "lon": 126.978}}'
ID=level-esc.dev-esc.1
wait_sql "SELECT escalation_level FROM alerts WHERE id = '$ID'" 1 8 && pass || fail "not escalated"
expect_eq "escalated state" "$(pg_sql -c "SELECT state || ' ' || groups FROM alerts WHERE id = '$ID'")" \
	"escalated crew,duty"
wait_lines all "^staff/duty/alerts/$ID .*\"escalation_level\":1" 1 3 && pass ||
	fail "duty group did not get the retained state"
expect_eq "reminder before the ack" "$(events $ID reminded)" "1"
mosquitto_pub -p "$MQTT_PORT" -V mqttv5 -q 1 -t "staff/ack/$ID" -m '{"by": "kim.j", "note": "on my way"}'
wait_sql "SELECT state || ' ' || acked_by FROM alerts WHERE id = '$ID'" "acknowledged kim.j" 5 && pass ||
	fail "ack not applied"
wait_lines all "^staff/crew/alerts/$ID .*\"state\":\"acknowledged\",\"acked_by\":\"kim.j\"" 1 3 && pass ||
	fail "acknowledged state not published to crew"
wait_lines all "^staff/duty/alerts/$ID .*\"state\":\"acknowledged\"" 1 3 && pass ||
	fail "acknowledged state not published to duty"
# An ack that came before escalation: neither reminders nor escalation follow.
rec dev-ack '{"level": 60}'
wait_sql "SELECT count(*) FROM alerts WHERE id = 'level-esc.dev-ack.1'" 1 5 || fail "dev-ack not raised"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t "staff/ack/level-esc.dev-ack.1" -m '{"by": "lee"}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-esc.dev-ack.1'" acknowledged 5 || fail "dev-ack not acked"
sleep 4 # past the 2 s reminder and the 3 s escalation of both situations
expect_eq "no reminder after the ack" \
	"$(pg_sql -c "SELECT count(*) FROM alert_events e JOIN alerts a ON a.id = e.alert_id WHERE a.device IN ('dev-esc', 'dev-ack') AND e.kind IN ('reminded', 'escalated') AND e.at > a.acked_at")" "0"
expect_eq "acked early: never escalated" \
	"$(pg_sql -c "SELECT escalation_level || ' ' || state FROM alerts WHERE id = 'level-esc.dev-ack.1'")" "0 acknowledged"

# --- retained state: a late subscriber sees every open situation, none once closed ---
late=$(retained 'staff/crew/alerts/+')
expect_contains "late subscriber sees dev-esc" "$late" "staff/crew/alerts/$ID {"
expect_contains "late subscriber sees dev-delta" "$late" "staff/crew/alerts/level-jump.dev-delta.1 {"
rec dev-esc '{"level": 10}'
wait_sql "SELECT state FROM alerts WHERE id = '$ID'" closed 5 && pass || fail "dev-esc not closed"
wait_lines all "\"identifier\":\"$ID.[0-9]*\".*\"msgType\":\"Cancel\"" 2 3 && pass ||
	fail "no Cancel notice to both groups"
late=$(retained 'staff/+/alerts/+')
case "$late" in *"$ID"*) fail "closed situation still retained: $late" ;; *) pass ;; esac

# --- deadline: pre-deadline notice to crew at 2 s, overdue to the supervisors at 4 s ---
rec dev-dl '{"flag": true}'
wait_lines all "^staff/supervisors/notices .*flag-deadline.dev-dl.1.*Overdue" 1 8 && pass ||
	fail "no overdue notice to supervisors"
expect_eq "pre-deadline notice to crew" \
	"$(count_lines all "^staff/crew/notices .*flag-deadline.dev-dl.1.*deadline for handling this situation is near")" "1"
expect_eq "deadline events" \
	"$(pg_sql -c "SELECT string_agg(kind, ',' ORDER BY id) FROM alert_events WHERE alert_id = 'flag-deadline.dev-dl.1'")" \
	"raised,pre_deadline,overdue"

# --- re-raise interval: the second raise within an hour is recorded, not sent ---
rec dev-rr '{"level": 95}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-reraise.dev-rr.1'" raised 5 || fail "dev-rr not raised"
rec dev-rr '{"level": 10}'
rec dev-rr '{"level": 96}'
wait_sql "SELECT count(*) FROM alert_events WHERE alert_id = 'level-reraise.dev-rr.1' AND kind = 'suppressed'" 1 5 &&
	pass || fail "no suppressed event"
expect_eq "one situation for dev-rr" "$(pg_sql -c "SELECT count(*) FROM alerts WHERE device = 'dev-rr'")" "1"

# --- two device ids that make the same topic-safe id get different episodes ---
rec 'dev col' '{"level": 95}'
wait_sql "SELECT count(*) FROM alerts WHERE rule = 'level-reraise' AND device = 'dev col'" 1 5 ||
	fail "dev col not raised"
rec dev_col '{"level": 95}'
wait_sql "SELECT string_agg(id || '=' || device, ',' ORDER BY id) FROM alerts WHERE id LIKE 'level-reraise.dev_col.%'" \
	"level-reraise.dev_col.1=dev col,level-reraise.dev_col.2=dev_col" 5 && pass ||
	fail "colliding ids: $(pg_sql -c "SELECT id, device FROM alerts WHERE rule = 'level-reraise'")"

# --- a non-Paho client receives a situation and acknowledges it the CAP way ---
mosquitto_sub -p "$MQTT_PORT" -V mqttv5 -q 1 -t 'staff/crew/alerts/level-esc.dev-mosq.1' -C 1 -W 10 \
	>"$HARNESS_TMP/mosq.json" 2>&1 &
MOSQ=$!
sleep 0.3
rec dev-mosq '{"level": 77}'
wait "$MOSQ"
got=$(cat "$HARNESS_TMP/mosq.json")
expect_contains "mosquitto_sub got the CAP alert" "$got" '"msgType":"Alert"'
expect_contains "headline filled" "$got" '"headline":"Level 77 at dev-mosq, not handled"'
ident=$(echo "$got" | sed -E 's/.*"identifier":"([^"]*)".*/\1/')
mosquitto_pub -p "$MQTT_PORT" -V mqttv5 -q 1 -t staff/ack/level-esc.dev-mosq.1 -m \
	"{\"msgType\": \"Ack\", \"sender\": \"app-7\", \"references\": \"citylink-alerts@citylink-alerts,$ident,x\"}"
wait_sql "SELECT state || ' ' || acked_by FROM alerts WHERE id = 'level-esc.dev-mosq.1'" \
	"acknowledged app-7" 5 && pass || fail "CAP ack not applied"

# --- bad acks: logged with a reason, counted, never a crash ---
mosquitto_pub -p "$MQTT_PORT" -q 1 -t staff/ack/level-esc.dev-mosq.1 -m '{"by": '
mosquitto_pub -p "$MQTT_PORT" -q 1 -t staff/ack/no-such-situation -m '{"by": "x"}'
mosquitto_pub -p "$MQTT_PORT" -q 1 -t staff/ack/level-esc.dev-mosq.1 -m '{"by": ""}'
wait_log a1 'event=ack_refused' 3 5 && pass || fail "bad acks not logged"
expect_eq "reasons" "$(grep -c -e 'reason="not JSON"' -e 'reason="no open situation has this id"' -e 'must be a non-empty string' "$HARNESS_TMP/a1.log")" "3"
ok=0
for _ in $(seq 1 30); do
	st=$(mosquitto_sub -p "$MQTT_PORT" -t citylink/status/alerts/a1 -C 1 -W 2 2>/dev/null)
	case "$st" in *'"acks_refused":3'*) ok=1; break ;; esac
	sleep 0.2
done
[ "$ok" = 1 ] && pass || fail "status does not count 3 refused acks: $st"
kill -0 "$(alerts_pid a1)" && pass || fail "alerts died"

# --- a malformed std/ record is refused with a reason ---
mosquitto_pub -p "$MQTT_PORT" -q 1 -t std/alert-test/dev-x -m '{"standard":"alert-test"}'
wait_log a1 'event=record_refused topic="std/alert-test/dev-x"' 1 5 && pass || fail "bad record not logged"

# --- manual notice, recorded in the history ---
out=$("$CITYLINK" notify --broker "$MQTT_URI" --db "$PG_CONNINFO" --group crew --severity severe \
	--headline "Road 12 closed for works" --description "until 18:00" --by "mapo.works" 2>&1)
expect_contains "notify output" "$out" "sent to staff/crew/notices"
wait_lines all '^staff/crew/notices .*"headline":"Road 12 closed for works"' 1 3 && pass ||
	fail "notice not received"
expect_eq "notice recorded" \
	"$(pg_sql -c "SELECT kind || ' ' || by || ' ' || note || ' ' || (detail->>'group') FROM alert_events WHERE kind = 'notice'")" \
	"notice mapo.works Road 12 closed for works crew"
out=$("$CITYLINK" notify --broker "$MQTT_URI" --group 'a/#' --headline x 2>&1)
expect_contains "notify refuses a wildcard group" "$out" "is not a group name"

# --- through a real ingest: city/at/<device> -> std/ -> alerts ---
ingest_start i1
ingest_ready i1 || fail "ingest not ready"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t city/at/dev-ingest -m '{"level": 88}'
wait_sql "SELECT state FROM alerts WHERE id = 'level-for.dev-ingest.1'" raised 8 && pass ||
	fail "record through ingest raised nothing"

# --- every change was sent, so none is left marked for sending again at the next start ---
wait_sql "SELECT count(*) FROM alerts WHERE unpublished" 0 5 && pass || fail "changes left unpublished"

# --- a change whose messages were refused (simulated: marked unpublished 31 s ago) is sent
# again within the 10 s resend check, and its mark cleared ---
pg_sql -c "UPDATE alerts SET unpublished = true, updated_at = now() - interval '31 seconds' WHERE id = 'level-jump.dev-delta.1'"
before=$(count_lines all "^staff/crew/notices .*level-jump.dev-delta.1")
wait_log a1 "event=resend situation=level-jump.dev-delta.1" 1 15 && pass || fail "not resent"
wait_sql "SELECT count(*) FROM alerts WHERE unpublished" 0 5 && pass || fail "resent change still marked"
wait_lines all "^staff/crew/notices .*level-jump.dev-delta.1" $((before + 1)) 3 && pass ||
	fail "resent notice not received"

# --- SIGTERM: exit 0, status offline ---
alerts_stop a1
rc=$?
expect_eq "SIGTERM exit status" "$rc" "0"
# The broker handles the disconnect (and publishes the will) on its own time: poll.
for _ in $(seq 1 20); do
	st=$(mosquitto_sub -p "$MQTT_PORT" -t citylink/status/alerts/a1 -C 1 -W 2 2>/dev/null)
	case "$st" in *'"state":"offline"'*) break ;; esac
	sleep 0.2
done
expect_contains "offline status" "$st" '"state":"offline"'
if grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error' "$HARNESS_TMP/a1.log"; then fail "sanitizer report"; else pass; fi
finish
