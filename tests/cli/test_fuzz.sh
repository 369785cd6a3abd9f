#!/bin/sh
# A bounded libFuzzer run of each untrusted-input parser (payload normalization, schema
# loading, MQTT packets from the broker) over its seed corpus: CITYLINK_FUZZ_SECONDS each (default 10). Long runs are
# `make fuzz FUZZ_SECONDS=...`. Skips (77) where clang's fuzzer runtime is missing.
. tests/cli/lib.sh
secs=${CITYLINK_FUZZ_SECONDS:-10}

if ! command -v clang >/dev/null 2>&1; then
	echo "clang is not installed: no fuzz run"
	exit 77
fi
if ! make -s fuzz-build >"$TMP/build.log" 2>&1; then
	fail "building the fuzz targets"
	tail -n 20 "$TMP/build.log" >&2
	finish
	exit 1
fi
for target in normalize schema_load mqtt_wire; do
	mkdir -p "$TMP/corpus-$target"
	cp fuzz/corpus/$target/* "$TMP/corpus-$target/" 2>/dev/null
	if CITYLINK_SCHEMAS=schemas build/fuzz/fuzz_$target -max_total_time="$secs" \
		-max_len=65536 -rss_limit_mb=2048 -timeout=20 -artifact_prefix="$TMP/" \
		"$TMP/corpus-$target" >"$TMP/$target.log" 2>&1; then
		pass
	else
		fail "fuzz_$target found a problem"
		grep -E "ERROR|SUMMARY|Test unit written" "$TMP/$target.log" | head -n 10 >&2
		mkdir -p fuzz/crashes
		for f in "$TMP"/crash-* "$TMP"/leak-* "$TMP"/timeout-* "$TMP"/oom-*; do
			[ -f "$f" ] && cp "$f" "fuzz/crashes/$target-$(basename "$f")" &&
				echo "  reproducer: fuzz/crashes/$target-$(basename "$f")" >&2
		done
	fi
done
finish
