# Helpers for the broker tests. Source after tests/cli/lib.sh and tests/harness/servers.sh,
# once harness_init has run: accounts go to $BROKER_ETC, which broker_start_conf uses.
BROKER_ETC=$HARNESS_TMP/broker
PROBE="/usr/bin/python3 tests/broker/probe.py"

# account KIND NAME [ARGS]: makes the account with citylink; prints its generated password.
account() {
	kind=$1
	shift
	"$CITYLINK" "$kind" add "$@" --broker-dir "$BROKER_ETC" 2>/dev/null | sed -n 's/^password: //p'
}
