#!/bin/sh
# Deployment files: the install layout (deploy/install.sh, what `make install` runs) into
# a DESTDIR as an unprivileged user; the shipped ingest.conf is exactly what the option
# table generates; and the systemd units, installed into a private prefix so their
# ExecStart paths exist, pass `systemd-analyze verify` with EMPTY stderr (it exits 0 even
# when it warns) and `systemd-analyze security --offline=true --threshold=25`, as does
# Debian's mosquitto.service with our drop-ins (without them it must fail: the control).
. tests/cli/lib.sh
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi
REPO=$(pwd)

# ---- the shipped config is the generated one ----
for d in ingest alerts; do
	"$BUILD/config-sample" $d >"$TMP/$d.conf" || fail "config-sample $d"
	expect_eq "deploy/config/$d.conf is what the option table generates (make config-samples)" \
		"$(diff deploy/config/$d.conf "$TMP/$d.conf")" ""
	expect_eq "the generated config loads as citylink-$d's config" \
		"$("$BUILD/citylink-$d" --config deploy/config/$d.conf --schemas schemas --check 2>&1)" \
		"configuration OK"
done

# ---- make install DESTDIR=... as a non-root user ----
stage=$TMP/stage
mkdir -p "$stage"
as=""
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$stage"
	chmod 755 "$TMP"
	as="runuser -u nobody --"
fi
$as env DESTDIR="$stage/root" BUILD="$BUILD" sh deploy/install.sh >"$TMP/install.log" 2>&1
expect_eq "install into DESTDIR without root" "$?" "0"
(cd "$stage/root" && find . -type f -not -path '*/schemas/*' -not -path './usr/local/share/citylink/*' | sort) >"$TMP/files"
expect_eq "installed files" "$(cat "$TMP/files")" "./etc/citylink/alerts.conf
./etc/citylink/broker/mosquitto.conf
./etc/citylink/ingest.conf
./etc/systemd/system/mosquitto.service.d/citylink.conf
./etc/systemd/system/mosquitto.service.d/hardening.conf
./usr/local/bin/citylink
./usr/local/bin/citylink-alerts
./usr/local/bin/citylink-ingest
./usr/local/lib/systemd/system/citylink-alerts.service
./usr/local/lib/systemd/system/citylink-ingest.service
./usr/local/share/doc/citylink/README.md
./usr/local/share/doc/citylink/broker.md"
expect_eq "schemas installed" "$(cd "$stage/root/etc/citylink/schemas" && find . -type f | wc -l)" "$(cd schemas && find . -type f | wc -l)"
expect_eq "state dir and broker dir modes" \
	"$(stat -c %a "$stage/root/var/lib/citylink" "$stage/root/etc/citylink/broker" | tr '\n' ' ')" "700 750 "
expect_eq "unit paths filled in" "$(cat "$stage"/root/usr/local/lib/systemd/system/*.service "$stage"/root/etc/systemd/system/mosquitto.service.d/*.conf | grep -c '@[A-Z]*@')" "0"
# An upgrade keeps what ops edited.
echo "broker = mqtt://10.0.0.5:1883" >>"$stage/root/etc/citylink/ingest.conf"
$as env DESTDIR="$stage/root" BUILD="$BUILD" sh deploy/install.sh >>"$TMP/install.log" 2>&1
expect_eq "reinstall keeps an edited config" "$(tail -n 1 "$stage/root/etc/citylink/ingest.conf")" "broker = mqtt://10.0.0.5:1883"

# ---- units: verify and security ----
prefix=$TMP/prefix
env PREFIX="$prefix/usr" SYSCONFDIR="$prefix/etc" LOCALSTATEDIR="$prefix/var" \
	BUILD="$BUILD" sh deploy/install.sh >>"$TMP/install.log" 2>&1 || fail "install into a prefix"
units=$prefix/usr/lib/systemd/system
# Drop-ins folded into Debian's unit: later [Service] lines act exactly as drop-ins do.
cat /lib/systemd/system/mosquitto.service "$prefix"/etc/systemd/system/mosquitto.service.d/*.conf \
	>"$TMP/mosquitto.service"

# verify UNIT: exit status and stderr, which must both be empty of trouble.
verify() {
	(cd "$TMP" && systemd-analyze verify "$1" 2>"$TMP/verify.err" >/dev/null)
	rc=$?
	expect_eq "verify $(basename "$1"): exit 0, empty stderr" "$rc $(cat "$TMP/verify.err")" "0 "
}
# security UNIT: passes --threshold=25 (exposure 2.5) and prints its score.
security() {
	out=$(systemd-analyze security --offline=true --threshold=25 "$1" 2>&1)
	rc=$?
	score=$(echo "$out" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	echo "security $(basename "$1"): $score"
	expect_eq "security $(basename "$1") passes --threshold=25" "$rc" "0"
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }' && pass || fail "exposure of $1 is $score"
}
verify "$units/citylink-ingest.service"
verify "$units/citylink-alerts.service"
verify "$TMP/mosquitto.service"
security "$units/citylink-ingest.service"
security "$units/citylink-alerts.service"
security "$TMP/mosquitto.service"
systemd-analyze security --offline=true --threshold=25 /lib/systemd/system/mosquitto.service >/dev/null 2>&1
expect_eq "control: Debian's unit alone fails the threshold" "$?" "1"

# What the units must say (style.md §15).
u=$(cat "$units/citylink-ingest.service")
for line in Type=notify NotifyAccess=main WatchdogSec=30s Restart=on-failure \
	"ExecStartPre=$prefix/usr/bin/citylink-ingest --config $prefix/etc/citylink/ingest.conf --username ingest --password-file %d/mqtt-password --check" \
	'ExecReload=/bin/kill -HUP $MAINPID' StateDirectory=citylink ConfigurationDirectory=citylink \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
	CapabilityBoundingSet= "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
	SystemCallFilter=@system-service UMask=0077 DynamicUser=yes; do
	case "
$u
" in
	*"
$line
"*) pass ;;
	*) fail "citylink-ingest.service lacks \"$line\"" ;;
	esac
done
finish
