#!/bin/sh
# The citylink tool end to end: schema check of the shipped set, errors as file:line:col,
# a standard and source written only in YAML normalized without recompiling, the vendor
# guide (which normalizes its own generated examples) and usage errors.
. tests/cli/lib.sh

out=$("$CITYLINK" schema check schemas 2>&1)
expect_contains "shipped schemas pass" "$out" "schemas OK: "
rc=0; "$CITYLINK" schema check schemas >/dev/null 2>&1 || rc=$?
expect_eq "schema check exit 0" "$rc" 0

# A new standard and vendor, YAML only.
mkdir -p "$TMP/set/standards" "$TMP/set/sources"
cat >"$TMP/set/standards/noise.yaml" <<'YAML'
standard: noise
version: 1
title: Street noise level
interval: 1m
fields:
  laeq: {type: number, unit: dBA, range: [20, 140], required: true}
  peak: {type: number, unit: dBA, range: [20, 160]}
YAML
cat >"$TMP/set/sources/hush.yaml" <<'YAML'
source: hush
standard: noise
topic: city/hush/+
format: json
device: {path: meta.id}
time: {path: at, as: iso8601}
fields:
  laeq: readings.leq
  peak: [readings.lmax, readings.peak]
YAML
out=$("$CITYLINK" schema check "$TMP/set" 2>&1)
expect_eq "new set checks" "$out" "schemas OK: 1 standards, 1 sources, 0 rules"
out=$(printf '{"meta":{"id":"n-7"},"at":"2026-11-21T18:00:00+09:00","readings":{"leq":61.5,"peak":80}}' |
	"$CITYLINK" normalize --schemas "$TMP/set" --topic city/hush/x - 2>&1)
expect_eq "new source normalizes" "$out" \
	'{"standard":"noise","source":"hush","device":"n-7","time":"2026-11-21T09:00:00.000Z","values":{"laeq":61.5,"peak":80}}'
out=$(printf '{"meta":{"id":"n-7"},"at":"2026-11-21T18:00:00+09:00","readings":{"leq":200}}' |
	"$CITYLINK" normalize --schemas "$TMP/set" --topic city/hush/x - 2>&1)
expect_eq "new source rejects" "$out" "reject: laeq: 200 is above the range 20..140"

# Errors are file:line:col, all of them, and nothing loads.
cat >"$TMP/set/sources/broken.yaml" <<'YAML'
source: broken
standard: noise
topic: city/hush/#
format: json
device: {topic: 3}
fields:
  laeq: {path: leq, unit: degC}
  loudness: x
YAML
out=$("$CITYLINK" schema check "$TMP/set" 2>&1)
rc=0; "$CITYLINK" schema check "$TMP/set" >/dev/null 2>&1 || rc=$?
expect_eq "broken set exit 1" "$rc" 1
expect_contains "unit error" "$out" "$TMP/set/sources/broken.yaml:7:27: unit degC (temperature) cannot convert to dBA"
expect_contains "unknown field" "$out" "$TMP/set/sources/broken.yaml:8:3: standard noise has no field \"loudness\""
expect_contains "summary" "$out" "2 errors, nothing loaded"
# Once its mappings are right, the broken source still claims hush's topics.
sed -i 's/unit: degC/unit: dBA/; /loudness/d' "$TMP/set/sources/broken.yaml"
out=$("$CITYLINK" schema check "$TMP/set" 2>&1)
expect_contains "overlap" "$out" "topic city/hush/+ of source hush overlaps topic city/hush/# of source broken"

# The vendor guide generates and normalizes an example for every shipped source.
rc=0; "$CITYLINK" schema doc schemas >"$TMP/guide.md" 2>"$TMP/guide.err" || rc=$?
expect_eq "guide md exit 0 ($(head -c 300 "$TMP/guide.err"))" "$rc" 0
rc=0; "$CITYLINK" schema doc schemas --format html >"$TMP/guide.html" 2>"$TMP/guide.err" || rc=$?
expect_eq "guide html exit 0 ($(head -c 300 "$TMP/guide.err"))" "$rc" 0
for src in schemas/sources/*.yaml; do
	id=$(sed -n 's/^source: *//p' "$src" | head -n 1)
	expect_contains "guide mentions $id" "$(cat "$TMP/guide.md")" "$id"
done

# Usage errors exit 2 with a message.
rc=0; "$CITYLINK" normalize --topic x >/dev/null 2>&1 || rc=$?
expect_eq "normalize without --schemas" "$rc" 2
rc=0; "$CITYLINK" frobnicate >/dev/null 2>&1 || rc=$?
expect_eq "unknown command" "$rc" 2
out=$("$CITYLINK" normalize --schemas schemas --topic city/none/x /dev/null 2>&1)
expect_eq "no source" "$out" "reject: no source matches topic city/none/x"

finish
