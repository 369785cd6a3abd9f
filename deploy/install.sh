#!/bin/sh
# Installs citylink with FHS paths; run by `make install` (which passes every variable).
#   DESTDIR       staging root prepended to every path (packaging, tests); default empty
#   PREFIX        /usr/local: $PREFIX/bin, $PREFIX/share/citylink, $PREFIX/share/doc/citylink
#   SYSCONFDIR    /etc: $SYSCONFDIR/citylink (configs, schemas, broker/), the mosquitto drop-ins
#   LOCALSTATEDIR /var: $LOCALSTATEDIR/lib/citylink (the ingest's spool, via StateDirectory)
#   UNITDIR       $PREFIX/lib/systemd/system (on systemd's search path for /usr and /usr/local)
#   BUILD         where the programs were built (build)
# Programs, units and the shipped reference copies are always replaced; the files ops edit
# (configs, schemas, broker config) are installed only when missing, so an upgrade keeps
# them; the new shipped versions are in $PREFIX/share/citylink to compare.
set -eu
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
LOCALSTATEDIR=${LOCALSTATEDIR:-/var}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
BUILD=${BUILD:-build}
BINDIR=$PREFIX/bin
SHAREDIR=$PREFIX/share/citylink
DOCDIR=$PREFIX/share/doc/citylink
ETC=$SYSCONFDIR/citylink
D=$DESTDIR

# Files the broker reads belong to its group when we can give them: a real install as
# root on a machine with the mosquitto group (a DESTDIR staging tree is left as it is).
broker_group() {
	if [ -z "$D" ] && [ "$(id -u)" -eq 0 ] && getent group mosquitto >/dev/null; then
		chgrp mosquitto "$@"
	fi
}

# keep SRC DEST MODE: installs SRC unless DEST exists.
keep() {
	[ -e "$D$2" ] || install -m "$3" "$1" "$D$2"
}

subst() {
	sed -e "s|@BINDIR@|$BINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" -e "s|@DOCDIR@|$DOCDIR|g" "$1"
}

install -d "$D$BINDIR" "$D$SHAREDIR" "$D$DOCDIR" "$D$UNITDIR" "$D$ETC" \
	"$D$SYSCONFDIR/systemd/system/mosquitto.service.d"
for p in citylink citylink-ingest citylink-alerts; do
	install -m 0755 "$BUILD/$p" "$D$BINDIR/$p" || exit 1
done

# Reference copies, then the editable ones where missing.
rm -rf "$D$SHAREDIR/schemas" "$D$SHAREDIR/broker-config" "$D$SHAREDIR/config"
cp -R schemas "$D$SHAREDIR/schemas"
cp -R broker-config "$D$SHAREDIR/broker-config"
cp -R deploy/config "$D$SHAREDIR/config"
install -m 0755 deploy/make-ca.sh "$D$SHAREDIR/make-ca.sh"
keep deploy/config/ingest.conf "$ETC/ingest.conf" 0644
keep deploy/config/alerts.conf "$ETC/alerts.conf" 0644
[ -e "$D$ETC/schemas" ] || cp -R schemas "$D$ETC/schemas"
install -d -m 0750 "$D$ETC/broker"
broker_group "$D$ETC/broker"
if [ ! -e "$D$ETC/broker/mosquitto.conf" ]; then
	install -m 0640 broker-config/mosquitto.conf "$D$ETC/broker/mosquitto.conf"
	broker_group "$D$ETC/broker/mosquitto.conf"
fi

install -d -m 0700 "$D$LOCALSTATEDIR/lib/citylink"
for u in citylink-ingest citylink-alerts; do
	subst "deploy/systemd/$u.service" >"$D$UNITDIR/$u.service"
	chmod 0644 "$D$UNITDIR/$u.service"
done
for f in citylink.conf hardening.conf; do
	subst "deploy/systemd/mosquitto.service.d/$f" >"$D$SYSCONFDIR/systemd/system/mosquitto.service.d/$f"
	chmod 0644 "$D$SYSCONFDIR/systemd/system/mosquitto.service.d/$f"
done
install -m 0644 README.md "$D$DOCDIR/README.md"
install -m 0644 broker-config/README.md "$D$DOCDIR/broker.md"

if [ -n "$D" ]; then exit 0; fi
cat <<MSG
citylink installed. Next (README, "Operating: broker, identities, systemd"):
  $BINDIR/citylink service add ingest --password-file $ETC/ingest.password   (and alerts)
  $BINDIR/citylink db migrate --db dbname=citylink --schemas $ETC/schemas
  systemctl daemon-reload && systemctl restart mosquitto && systemctl enable --now citylink-ingest
MSG
