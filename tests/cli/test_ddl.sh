#!/bin/sh
# tests/cli/test_ddl.sh [BUILD_DIR] — `citylink schema ddl` against a real PostgreSQL.
#
# Starts a throwaway cluster in a temp dir (Unix socket only, on a free port), applies the
# DDL of the shipped schemas twice (it must be idempotent), inserts and reads back rows,
# then applies the DDL of a schema set whose standard gained a field (it must migrate the
# table forward and quote comments right). The cluster is always stopped, via trap.
# Exit 77 (skipped) when the PostgreSQL server binaries are not installed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-${CITYLINK_BUILD:-build}}
case $build in /*) ;; *) build=$root/$build ;; esac
citylink=$build/citylink
pgbin=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ] || [ ! -x "$pgbin/pg_ctl" ] || [ ! -x "$pgbin/psql" ]; then
	echo "test_ddl: SKIP: PostgreSQL server binaries not found (apt install postgresql)"
	exit 77
fi
if [ ! -x "$citylink" ]; then
	echo "test_ddl: $citylink is missing (run make first)"
	echo "0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got \"$2\", expected \"$3\""; fi; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/citylink-ddl.XXXXXX") || exit 2
# initdb refuses to run as root: then the cluster belongs to the postgres user.
as=""
if [ "$(id -u)" -eq 0 ]; then
	as="runuser -u postgres --"
	chown postgres "$tmp"
fi
cleanup() {
	[ -f "$tmp/data/postmaster.pid" ] && $as "$pgbin/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $$ % 20000))
}

start_cluster() {
	port=$(free_port)
	$as "$pgbin/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1 ||
		{ cat "$tmp/initdb.log"; return 1; }
	cat >>"$tmp/data/postgresql.conf" <<-EOF
	port = $port
	listen_addresses = ''
	unix_socket_directories = '$tmp'
	fsync = off
	EOF
	$as "$pgbin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 30 start >/dev/null ||
		{ cat "$tmp/server.log"; return 1; }
}

sql() {
	"$pgbin/psql" -h "$tmp" -p "$port" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

if ! start_cluster; then
	fail "start a PostgreSQL cluster"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "cluster started on port $port"

if "$citylink" schema ddl "$root/schemas" >"$tmp/ddl.sql"; then ok "schema ddl"; else fail "schema ddl"; fi
if sql -f "$tmp/ddl.sql" >"$tmp/apply1.log" 2>&1; then ok "DDL applies"; else fail "DDL applies: $(cat "$tmp/apply1.log")"; fi
if sql -f "$tmp/ddl.sql" >"$tmp/apply2.log" 2>&1; then ok "DDL applies again"; else fail "DDL applies again: $(cat "$tmp/apply2.log")"; fi

standards=$(ls "$root"/schemas/standards/*.yaml | wc -l)
check "one partitioned table per standard" \
	"$(sql -c "SELECT count(*) FROM pg_class WHERE relkind = 'p' AND relname LIKE 'std\_%'")" "$standards"
check "one default partition per standard" \
	"$(sql -c "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname LIKE 'std\_%\_default'")" "$standards"

sql -c "INSERT INTO std_air_quality (time, device_id, source, pm25, co2, window_open, state, location_lat, location_lon)
        VALUES ('2026-11-21T09:10:00.123Z', 'aq-0042', 'acme-aq', 17.9, 612, false, 'ok', 37.5665, 126.978)" >/dev/null 2>&1 &&
	ok "insert a record" || fail "insert a record"
check "read the record back" \
	"$(sql -c "SELECT pm25, co2, window_open, state, location_lat, location_lon, received_at IS NOT NULL FROM std_air_quality WHERE device_id = 'aq-0042'")" \
	"17.9|612|f|ok|37.5665|126.978|t"
check "unique (device_id, time): a redelivery is a no-op" \
	"$(sql -c "INSERT INTO std_air_quality (time, device_id, source, pm25) VALUES ('2026-11-21T09:10:00.123Z', 'aq-0042', 'acme-aq', 1) ON CONFLICT DO NOTHING RETURNING 1")" ""
check "column comment carries the unit" \
	"$(sql -c "SELECT col_description('std_air_quality'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'std_air_quality'::regclass AND attname = 'pm25'))")" \
	"Unit: ug/m3. Range: 0..1000. PM2.5 fine particulate matter, mass concentration."
check "rejects and devices tables" \
	"$(sql -c "INSERT INTO rejects (received_at, topic, payload, reason) VALUES (now(), 'city/x/1', '\\x7b7d', 'no source matches topic city/x/1') RETURNING id;
	           INSERT INTO devices (id, source, standard) VALUES ('aq-0042', 'acme-aq', 'air-quality') RETURNING id")" "1
aq-0042"

# A standard that gains a field migrates forward; the description needs SQL quoting.
cp -R "$root/schemas" "$tmp/schemas2"
cat >>"$tmp/schemas2/standards/air-quality.yaml" <<-'EOF'
	  visitors:
	    type: integer
	    range: [0, 10000]
	    description: "Visitors' count; it's O'Brien's \"test\""
	EOF
if "$citylink" schema ddl "$tmp/schemas2" >"$tmp/ddl2.sql" && sql -f "$tmp/ddl2.sql" >"$tmp/apply3.log" 2>&1; then
	ok "DDL of a grown standard applies"
else
	fail "DDL of a grown standard applies: $(cat "$tmp/apply3.log" 2>/dev/null)"
fi
check "the new column exists and old rows survive" \
	"$(sql -c "SELECT pm25, visitors IS NULL FROM std_air_quality WHERE device_id = 'aq-0042'")" "17.9|t"
check "quotes in a comment survive" \
	"$(sql -c "SELECT col_description('std_air_quality'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'std_air_quality'::regclass AND attname = 'visitors'))")" \
	"Range: 0..10000. Visitors' count; it's O'Brien's \"test\""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
