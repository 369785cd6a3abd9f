#!/bin/sh
# The shipped broker config (broker-config/mosquitto.conf) with accounts made by
# `citylink device|staff|service add`, against a real Mosquitto, MQTT 5
# (tests/broker/probe.py): a device publishes only to its own topic (others get PUBACK
# reason 135 and a running citylink-ingest stores nothing of them), staff read only their
# groups and publish only acks, anonymous and wrong passwords are refused, removal and
# reload take effect, and the websockets listener is on loopback only.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
. tests/ingest/lib.sh
trap 'ingest_cleanup; harness_cleanup; rm -rf "$TMP"' EXIT
. tests/broker/lib.sh
PA=$(account device dev-a --source ft)
PB=$(account device dev-b --source ft)
PS=$(account staff alice --group environment --group facilities)
PAL=$(account service alerts)
PIN=$(account service ingest)
expect_eq "generated passwords are 32 characters" "${#PA} ${#PS} ${#PIN}" "32 32 32"
expect_eq "device list" "$("$CITYLINK" device list --broker-dir "$BROKER_ETC")" \
"dev-a                            ft
dev-b                            ft"

sh deploy/make-ca.sh "$BROKER_ETC/tls" >/dev/null 2>&1 || fail "make-ca"
pg_start && broker_start_conf broker-config/mosquitto.conf || { fail "start servers"; finish; exit 1; }
probe() { $PROBE --port "$MQTT_PORT" "$@" 2>&1; }

# Anonymous and wrong passwords: MQTT 5 CONNACK 135 (not authorized).
expect_eq "anonymous connect refused" "$(probe connect)" "refused 135"
expect_eq "wrong password refused" "$(probe --user dev-a --password "$PB" connect)" "refused 135"

# Devices: own topic accepted (16: no subscriber yet), anything else 135.
expect_eq "device publishes to its own topic" "$(probe --user dev-a --password "$PA" publish city/ft/dev-a/sub)" "puback 16"
expect_eq "device A cannot publish to device B's topic" "$(probe --user dev-a --password "$PA" publish city/ft/dev-b)" "puback 135"
expect_eq "device cannot publish under another source" "$(probe --user dev-a --password "$PA" publish city/other/dev-a)" "puback 135"
expect_eq "device cannot publish to std/" "$(probe --user dev-a --password "$PA" publish std/fault-test/dev-a)" "puback 135"

# With a running ingest (its own service account, in a $share group): the denied publish
# stores nothing, the allowed one after it arrives (as a reject: the probe payload has no seq).
printf '%s' "$PIN" >"$TMP/ingest.pw" && chmod 600 "$TMP/ingest.pw"
ingest_start acl --username ingest --password-file "$TMP/ingest.pw" --group acl
ingest_ready acl || fail "ingest ready with its service account"
expect_eq "denied publish with ingest running" "$(probe --user dev-a --password "$PA" publish city/ft/dev-b)" "puback 135"
expect_eq "allowed publish with ingest running" "$(probe --user dev-a --password "$PA" publish city/ft/dev-a)" "puback 0"
wait_sql "SELECT count(*) FROM rejects WHERE topic = 'city/ft/dev-a'" 1 20 && pass || fail "the allowed message reached the ingest"
expect_eq "nothing stored for device B's topic" \
	"$(pg_sql -c "SELECT (SELECT count(*) FROM rejects WHERE topic LIKE 'city/ft/dev-b%') + (SELECT count(*) FROM std_fault_test WHERE device_id = 'dev-b')")" "0"
ingest_stop acl

# Staff: Mosquitto 2.0 grants a subscription outside the ACL (SUBACK 1) but delivers
# nothing from it; their own groups' topics arrive; they publish only acks.
route() { probe --user alice --password "$PS" route "$1" --pub-user alerts --pub-password "$PAL" "$2"; }
expect_eq "staff own group delivered" "$(route 'staff/environment/#' staff/environment/alerts/a1)" "suback 1 puback 0 received 1"
expect_eq "staff second group delivered" "$(route 'staff/facilities/#' staff/facilities/alerts/a2)" "suback 1 puback 0 received 1"
expect_eq "staff cannot read another group" "$(route 'staff/duty-officer/#' staff/duty-officer/alerts/a3)" "suback 1 puback 0 received 0"
expect_eq "staff wildcard sees only own groups" "$(route 'staff/#' staff/duty-officer/alerts/a4)" "suback 1 puback 0 received 0"
expect_eq "staff cannot read device topics" "$(probe --user alice --password "$PS" route 'city/#' --pub-user dev-a --pub-password "$PA" city/ft/dev-a)" "suback 1 puback 0 received 0"
expect_eq "staff cannot publish to city/" "$(probe --user alice --password "$PS" publish city/ft/dev-a)" "puback 135"
expect_eq "staff may publish an ack" "$(probe --user alice --password "$PS" publish staff/ack/a1)" "puback 16"
expect_eq "staff cannot publish an alert" "$(probe --user alice --password "$PS" publish staff/environment/alerts/x)" "puback 135"

# Removal, applied by --reload-pid: the account is gone from passwd, acl and the list.
out=$("$CITYLINK" device remove dev-b --broker-dir "$BROKER_ETC" --reload-pid "$HARNESS_TMP/mqtt/broker.pid" 2>&1)
expect_eq "device remove" "$out" "device dev-b removed"
sleep 0.5
expect_eq "removed device refused after reload" "$(probe --user dev-b --password "$PB" connect)" "refused 135"
expect_eq "acl no longer names it" "$(grep -c 'dev-b' "$BROKER_ETC/acl")" "0"
expect_eq "device list after remove" "$("$CITYLINK" device list --broker-dir "$BROKER_ETC")" "dev-a                            ft"
# An account added while the broker runs works after the reload.
PC=$(account device dev-c --source ft --reload-pid "$HARNESS_TMP/mqtt/broker.pid")
sleep 0.5
# (0, not 16: the stopped ingest's persistent $share subscription still matches.)
expect_eq "device added at run time" "$(probe --user dev-c --password "$PC" publish city/ft/dev-c)" "puback 0"

# Websockets for staff apps: works, and listens on loopback only (socket_domain ipv4).
expect_eq "staff over websockets" "$($PROBE --ws --port "$BROKER_PORT_9001" --user alice --password "$PS" publish staff/ack/a1 2>&1)" "puback 16"
expect_eq "websockets listener bound to 127.0.0.1 only" \
	"$(ss -Hltn "sport = :$BROKER_PORT_9001" | awk '{print $4}')" "127.0.0.1:$BROKER_PORT_9001"
finish
