#!/bin/sh
# Every example payload under tests/examples/<source>/ through `citylink normalize` with the
# shipped schemas: <case>.out must match stdout exactly, <case>.err must be contained in the
# reject reason. The payload is <case>.payload, or the tests/corpus/ file named in <case>.corpus.
. tests/cli/lib.sh
RECEIVED=2026-11-21T00:00:00Z

for topic_file in tests/examples/*/*.topic; do
	[ -f "$topic_file" ] || continue
	case_path=${topic_file%.topic}
	name=${case_path#tests/examples/}
	if [ -f "$case_path.corpus" ]; then
		payload="tests/corpus/$(cat "$case_path.corpus")"
	else
		payload="$case_path.payload"
	fi
	topic=$(cat "$topic_file")
	"$CITYLINK" normalize --schemas schemas --topic "$topic" --received "$RECEIVED" "$payload" \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ -f "$case_path.out" ]; then
		if [ "$rc" -eq 0 ] && cmp -s "$TMP/out" "$case_path.out"; then
			pass
		else
			fail "$name: expected records (exit $rc)"
			diff "$case_path.out" "$TMP/out" | head -n 10 >&2
			head -n 3 "$TMP/err" >&2
		fi
	elif [ -f "$case_path.err" ]; then
		expected=$(cat "$case_path.err")
		got=$(cat "$TMP/err")
		if [ "$rc" -eq 1 ]; then
			expect_contains "$name: reject reason" "$got" "$expected"
		else
			fail "$name: expected a reject, got exit $rc: $(head -c 300 "$TMP/out")"
		fi
	else
		fail "$name: neither .out nor .err"
	fi
done
finish
