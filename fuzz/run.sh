#!/bin/sh
# fuzz/run.sh SECONDS — runs every libFuzzer target in build/fuzz/ for SECONDS each, on a
# scratch copy of its seed corpus (fuzz/corpus/<target>/) so the repository is not
# touched, and exits non-zero if any target crashes, leaks, hangs or runs out of memory.
# A reproducer is copied to fuzz/crashes/<target>-<kind>-<hash>; replay it with
#   build/fuzz/fuzz_<target> fuzz/crashes/<file>
set -u

secs=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/citylink-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
status=0

for target in normalize schema_load mqtt_wire; do
	bin=$root/build/fuzz/fuzz_$target
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing (make fuzz builds it)" >&2
		status=2
		continue
	fi
	mkdir -p "$work/corpus-$target" "$work/artifacts-$target"
	cp "$root/fuzz/corpus/$target/"* "$work/corpus-$target/" 2>/dev/null
	echo "fuzz: $target for ${secs}s"
	CITYLINK_SCHEMAS=${CITYLINK_SCHEMAS:-$root/schemas} "$bin" \
		-max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts-$target/" \
		"$work/corpus-$target" >"$work/$target.log" 2>&1
	rc=$?
	grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$target.log" | tail -n 1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$work/$target.log"
	if [ "$rc" -ne 0 ]; then
		status=1
		echo "fuzz: $target FAILED (exit $rc):" >&2
		grep -E 'ERROR|SUMMARY|==[0-9]+==|#[0-9]+ 0x' "$work/$target.log" | head -n 40 >&2
		mkdir -p "$root/fuzz/crashes"
		for f in "$work/artifacts-$target"/*; do
			[ -f "$f" ] || continue
			cp "$f" "$root/fuzz/crashes/$target-$(basename "$f")"
			echo "fuzz: reproducer saved as fuzz/crashes/$target-$(basename "$f")" >&2
		done
		cp "$work/$target.log" "$root/fuzz/crashes/$target.log"
	fi
done

[ "$status" -eq 0 ] && echo "fuzz: no crashes"
exit "$status"
