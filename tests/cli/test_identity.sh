#!/bin/sh
# citylink device|staff|service without a broker: the exact ACL generated from the
# registry, refused names with their reasons, duplicates, --password-file, a broken
# registry reported as file:line, and remove. (tests/cli/test_broker_acl.sh runs the
# result in Mosquitto.)
. tests/cli/lib.sh
D=$TMP/broker
run() { "$CITYLINK" "$@" --broker-dir "$D" 2>&1; }

printf 's3cret-pw\n' >"$TMP/pw"
out=$(run device add aq-1 --source acme-aq --password-file "$TMP/pw")
expect_eq "device add with --password-file prints no password" "$out" \
"device aq-1 added: may publish to city/acme-aq/aq-1/#
citylink: the broker applies this on reload: systemctl reload mosquitto"
run staff add maria --group environment --group duty-officer >/dev/null
run service add ingest >/dev/null
run service add sim --role simulator >/dev/null
expect_eq "generated acl" "$(grep -v '^#' "$D/acl")" "
user aq-1
topic write city/acme-aq/aq-1/#

user maria
topic read staff/environment/#
topic read staff/duty-officer/#
topic write staff/ack/#

user ingest
topic read city/#
topic write std/#
topic write citylink/status/ingest/#

user sim
topic write city/#"
expect_eq "passwd has one hashed line per account" "$(cut -d: -f1 "$D/passwd" | tr '\n' ' ')" "aq-1 maria ingest sim "
expect_contains "passwords are PBKDF2-SHA512 hashes" "$(grep '^aq-1:' "$D/passwd")" 'aq-1:$7$'
expect_eq "files readable by the broker's group only" "$(stat -c %a "$D/passwd" "$D/acl" "$D/identities" | tr '\n' ' ')" "640 640 640 "

# Refused input, each with its reason and exit 1.
check() {
	name=$1
	want=$2
	shift 2
	out=$(run "$@")
	expect_eq "$name (exit)" "$?" "1"
	expect_contains "$name" "$out" "$want"
}
check "wildcard in id" "device \"aq+1\": '+' is not allowed" device add 'aq+1' --source acme-aq
check "level separator in id" "'/' is not allowed" device add 'a/b' --source acme-aq
check "space in source" "source \"acme aq\": ' ' is not allowed" device add aq-2 --source 'acme aq'
check "hash in group" "group \"env#\": '#' is not allowed" staff add bob --group 'env#'
check "control byte" "byte 0x09 at 3 is not allowed" device add "$(printf 'aq\t3')" --source acme-aq
check "too long" "must be 1 to 64 characters long" device add "$(printf '%070d' 0)" --source acme-aq
check "leading dash" "must start with a letter or digit" device add .hidden --source acme-aq
check "name taken by another kind" "\"maria\" already exists (a staff); remove it first" device add maria --source acme-aq
check "duplicate group" "group \"environment\" given twice" staff add bob --group environment --group environment
check "unknown role" "unknown role \"web\"" service add web
check "remove unknown" "no device \"nope\"" device remove nope
check "remove of another kind" "no device \"maria\"" device remove maria
out=$(run device add x1); expect_eq "missing --source is a usage error" "$?" "2"
expect_eq "nothing written by refused commands" "$(cut -d: -f1 "$D/passwd" | tr '\n' ' ')" "aq-1 maria ingest sim "

# A registry broken by hand is reported with its line, and nothing is rewritten.
cp "$D/identities" "$TMP/identities.good"
echo "device bad/one acme" >>"$D/identities"
n=$(wc -l <"$D/identities")
check "broken registry" "$D/identities:$n: device \"bad/one\": '/' is not allowed" device add aq-9 --source acme-aq
cp "$TMP/identities.good" "$D/identities"

out=$(run device remove aq-1)
expect_eq "remove" "$out" "device aq-1 removed
citylink: the broker applies this on reload: systemctl reload mosquitto"
expect_eq "removed from acl and passwd" "$(grep -c aq-1 "$D/acl" "$D/passwd" | tr '\n' ' ')" "$D/acl:0 $D/passwd:0 "
expect_eq "staff list" "$(run staff list)" "maria                            environment,duty-officer"
expect_eq "service list" "$(run service list)" "ingest                           ingest
sim                              simulator"
finish
