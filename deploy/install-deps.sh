#!/bin/sh
# Installs exactly the Debian 12 packages citylink needs to build, test and run.
# Idempotent: installs only what is missing, so `make test` and `make run` can call it every time.
# openssl (make-ca.sh, TLS tests), iproute2 (ss: which address a listener bound) and systemd
# (systemd-analyze verify/security of the units) are for the tests; nothing else needs them.
set -eu

PACKAGES="build-essential pkg-config clang libclang-rt-14-dev
libcjson-dev libyaml-dev libpq-dev libssl-dev libpaho-mqtt-dev zlib1g-dev
mosquitto mosquitto-clients postgresql postgresql-client
python3 python3-paho-mqtt python3-psycopg2
openssl iproute2 systemd"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
