#!/bin/sh
# Runs every test program and script, adds up their "N passed, N failed" lines, and ends
# with the total on one line. Usage: tests/run.sh BUILD_DIR (e.g. build/san).
# A script that exits 77 is counted as skipped (its first line of output says why).
set -u
BUILD=${1:-build/san}
export CITYLINK_BUILD="$BUILD" CITYLINK_REPO="$(pwd)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

total_pass=0
total_fail=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {
	name=$1
	shift
	"$@" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ "$rc" -eq 77 ]; then
		skipped=$((skipped + 1))
		printf 'SKIP %s: %s\n' "$name" "$(head -n 1 "$log")"
		return
	fi
	p=0
	f=0
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	fi
	# A crash or a missing summary is a failure even if the counts say otherwise.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$f" -ne 0 ]; then
		printf 'FAIL %s (%s passed, %s failed, exit %s)\n' "$name" "$p" "$f" "$rc"
		sed 's/^/    /' "$log" | tail -n 60
	else
		printf 'ok   %s (%s passed)\n' "$name" "$p"
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for s in tests/cli/test_*.sh; do
	[ -f "$s" ] || continue
	run_one "$(basename "$s")" sh "$s"
done

echo "$total_pass passed, $total_fail failed, $skipped skipped"
[ "$total_fail" -eq 0 ]
