# Shared helpers for the shell tests of the citylink tool: counters, assertions, and the
# closing "N passed, N failed" line. Source it; call finish at the end.
BUILD=${CITYLINK_BUILD:-build/san}
CITYLINK="$BUILD/citylink"
PASSED=0
FAILED=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s\n' "$*" >&2; }

# expect_eq NAME GOT EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then pass; else fail "$1"; printf '  got:      %s\n  expected: %s\n' "$2" "$3" >&2; fi
}

# expect_contains NAME HAYSTACK NEEDLE
expect_contains() {
	case "$2" in
	*"$3"*) pass ;;
	*) fail "$1"; printf '  got:      %s\n  expected to contain: %s\n' "$2" "$3" >&2 ;;
	esac
}

# expect_not_contains NAME HAYSTACK NEEDLE
expect_not_contains() {
	case "$2" in
	*"$3"*) fail "$1"; printf '  got:      %s\n  expected not to contain: %s\n' "$2" "$3" >&2 ;;
	*) pass ;;
	esac
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
