#!/bin/sh
# `citylink schema ddl` against a real PostgreSQL.
#
# Starts a throwaway cluster (tests/harness/servers.sh), applies the
# DDL of the shipped schemas twice (it must be idempotent), inserts and reads back rows,
# then applies the DDL of a schema set whose standard gained a field (it must migrate the
# table forward and quote comments right). The cluster is always stopped, via trap.
# Exit 77 (skipped) when the PostgreSQL server binaries are not installed.
. tests/cli/lib.sh
. tests/harness/servers.sh
harness_skip_unless_servers
harness_init
root=$(pwd)
citylink=$CITYLINK
tmp=$TMP

ok() { pass; }
check() { expect_eq "$1" "$2" "$3"; }
sql() { pg_sql "$@"; }

if ! pg_start; then
	fail "start a PostgreSQL cluster"
	finish
	exit 1
fi

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

check "monthly partitions from last month to three months ahead" \
	"$(sql -c "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'std_air_quality'::regclass AND c.relname ~ '_[0-9]{6}$'")" "5"
now_part="std_air_quality_$(date -u +%Y%m)"
sql -c "INSERT INTO std_air_quality (time, device_id, source, pm25) VALUES (now(), 'aq-now', 'acme-aq', 3)" >/dev/null
check "a current row lands in this month's partition" \
	"$(sql -c "SELECT tableoid::regclass FROM std_air_quality WHERE device_id = 'aq-now'")" "$now_part"
# A row far ahead waits in the default partition and moves when its month is made.
sql -c "INSERT INTO std_air_quality (time, device_id, source, pm25) VALUES (now() + interval '5 months', 'aq-later', 'acme-aq', 4)" >/dev/null
check "a row beyond the window waits in the default partition" \
	"$(sql -c "SELECT tableoid::regclass FROM std_air_quality WHERE device_id = 'aq-later'")" "std_air_quality_default"
check "making its month moves it out of the default partition" \
	"$(sql -c "SELECT citylink_ensure_partitions('std_air_quality', 0, 6)" && sql -c "SELECT tableoid::regclass::text ~ '_[0-9]{6}$' FROM std_air_quality WHERE device_id = 'aq-later'")" "3
t"
check "the same bad payload on the same topic is one reject row" \
	"$(sql -c "INSERT INTO rejects (received_at, topic, payload, reason) VALUES (now(), 'city/x/1', '\\x7b7d', 'again') ON CONFLICT (topic, md5(payload)) DO UPDATE SET count = rejects.count + 1 RETURNING id, count")" "1|2"

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

finish
