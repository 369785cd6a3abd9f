#!/bin/sh
# The shipped broker config's TLS listener for devices (certificates from
# deploy/make-ca.sh): TLS 1.2 works, TLS 1.1 is refused by the broker; then with the two
# documented lines uncommented (require_certificate, use_identity_as_username) a client
# without a certificate is refused and one with a certificate connects as its CN, whose
# ACL applies.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
. tests/broker/lib.sh
CA=$BROKER_ETC/tls/ca.crt

sh deploy/make-ca.sh "$BROKER_ETC/tls" dev-a >/dev/null 2>&1 || fail "make-ca"
expect_eq "make-ca: client cert CN is the username" \
	"$(openssl x509 -in "$BROKER_ETC/tls/dev-a.crt" -noout -subject)" "subject=CN = dev-a"
expect_eq "make-ca: server cert for localhost and 127.0.0.1" \
	"$(openssl x509 -in "$BROKER_ETC/tls/server.crt" -noout -ext subjectAltName | tail -n 1 | tr -d ' ')" \
	"DNS:localhost,IPAddress:127.0.0.1"
expect_eq "make-ca: keys are private" "$(stat -c %a "$BROKER_ETC/tls/dev-a.key")" "600"
PA=$(account device dev-a --source acme)
PS=$(account service citylink-simulate --role simulator)
printf '%s' "$PS" >"$TMP/sim.pass" && chmod 600 "$TMP/sim.pass"

broker_start_conf broker-config/mosquitto.conf || { fail "start broker"; finish; exit 1; }
tls() { $PROBE --port "$BROKER_PORT_8883" --ca "$CA" "$@" 2>&1; }
expect_eq "TLS 1.2+ with a password" "$(tls --user dev-a --password "$PA" publish city/acme/dev-a)" "puback 16"
expect_eq "ACL applies over TLS" "$(tls --user dev-a --password "$PA" publish city/acme/dev-b)" "puback 135"
expect_eq "TLS 1.1 refused" "$(tls --tls-max 1.1 --user dev-a --password "$PA" connect)" "error tls"
# The probe offered TLS 1.1 itself (SECLEVEL=0): the refusal is the broker's.
expect_contains "the broker refused the protocol" "$(cat "$HARNESS_TMP/mqtt/broker.log")" "unsupported protocol"

# citylink's own MQTT client (common/mqtt_conn.c) over the same listener: the broker's
# certificate is checked against the CA and the address, publishes are acknowledged; a
# login whose ACL refuses them shows that a refusal would be seen.
printf '%s' "$PA" >"$TMP/dev.pass" && chmod 600 "$TMP/dev.pass"
sim() {
	pf=$1
	shift
	"$CITYLINK" simulate --broker "mqtts://127.0.0.1:$BROKER_PORT_8883" --schemas schemas \
		--devices 3 --once --bad-percent 0 --password-file "$pf" "$@" 2>&1
}
out=$(sim "$TMP/sim.pass" --username citylink-simulate --ca-file "$CA")
expect_contains "citylink over TLS: all published" "$out" "published=3 bad=0 failed=0"
expect_not_contains "citylink over TLS: none refused" "$out" "publish_refused"
out=$(sim "$TMP/dev.pass" --username dev-a --ca-file "$CA")
expect_contains "citylink over TLS: an ACL refusal is reported" "$out" "reason=\"Not authorized\""
out=$(sim "$TMP/sim.pass" --username citylink-simulate)
expect_contains "citylink over TLS: a broker certificate from an unknown CA is refused" "$out" \
	"connect failed: TLS: the broker's certificate: self-signed certificate in certificate chain"
broker_stop

# Client certificates required: the documented switch, applied to the shipped file.
sed -e 's/^#require_certificate true/require_certificate true/' \
	-e 's/^#use_identity_as_username true/use_identity_as_username true/' \
	broker-config/mosquitto.conf >"$TMP/certs.conf"
expect_eq "the switch is two lines" "$(diff broker-config/mosquitto.conf "$TMP/certs.conf" | grep -c '^>')" "2"
rm -rf "$HARNESS_TMP/mqtt"
broker_start_conf "$TMP/certs.conf" || { fail "start broker requiring certificates"; finish; exit 1; }
expect_eq "no certificate refused" "$(tls --user dev-a --password "$PA" connect)" "error tls"
expect_eq "certificate accepted, CN is the username" \
	"$(tls --cert "$BROKER_ETC/tls/dev-a.crt" --key "$BROKER_ETC/tls/dev-a.key" publish city/acme/dev-a)" "puback 16"
expect_eq "the CN's ACL applies" \
	"$(tls --cert "$BROKER_ETC/tls/dev-a.crt" --key "$BROKER_ETC/tls/dev-a.key" publish city/acme/dev-b)" "puback 135"
expect_eq "the loopback listener still wants a password" "$($PROBE --port "$MQTT_PORT" connect 2>&1)" "refused 135"
finish
