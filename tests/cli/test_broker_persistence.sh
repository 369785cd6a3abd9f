#!/bin/sh
# The shipped broker config keeps what it queued for an offline persistent session (the
# ingest while it restarts) within a bounded loss window: N messages queued, then the
# broker is killed with SIGKILL (no save at exit) and restarted; the session must
# still hold all but at most autosave_interval (1000) of them, and more than the
# default 1000-message queue limit would have kept. The control: the same with the
# default autosave settings loses them all, so the test can tell.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
. tests/broker/lib.sh
N=5000

PIN=$(account service ingest)
PSIM=$(account service sim --role simulator)
sh deploy/make-ca.sh "$BROKER_ETC/tls" >/dev/null 2>&1 || fail "make-ca"

# queued_after_kill9 CONF: prints how many of N queued messages the session delivers.
queued_after_kill9() {
	rm -rf "$HARNESS_TMP/mqtt"
	broker_start_conf "$1" || { echo "broker did not start"; return; }
	$PROBE --port "$MQTT_PORT" --user ingest --password "$PIN" --client-id ingest-p session 'city/#' >/dev/null
	$PROBE --port "$MQTT_PORT" --user sim --password "$PSIM" flood city/sim/dev-1 "$N" >"$TMP/flood" 2>&1
	kill -9 "$(cat "$HARNESS_TMP/mqtt/broker.pid")"
	sleep 0.5
	broker_resume || { echo "broker did not restart"; return; }
	$PROBE --port "$MQTT_PORT" --user ingest --password "$PIN" --client-id ingest-p drain 2>&1
	broker_stop
}

out=$(queued_after_kill9 broker-config/mosquitto.conf)
expect_eq "all $N publishes acknowledged" "$(cat "$TMP/flood")" "acked $N"
got=${out#received }
echo "shipped config: $N queued, $got delivered after kill -9"
[ "$got" -ge $((N - 1000)) ] 2>/dev/null && pass || fail "kill -9 lost more than 1000 of $N queued ($out)"

sed -e 's/^autosave_on_changes true/autosave_on_changes false/' -e 's/^autosave_interval 1000/autosave_interval 1800/' \
	broker-config/mosquitto.conf >"$TMP/default-autosave.conf"
out=$(queued_after_kill9 "$TMP/default-autosave.conf")
echo "control (autosave every 1800 s): $N queued, ${out#received } delivered after kill -9"
expect_eq "control: default autosave loses the queue on kill -9" "$out" "received 0"
finish
