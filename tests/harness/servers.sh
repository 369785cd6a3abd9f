# Real servers for integration tests: a private PostgreSQL cluster and a private Mosquitto,
# each in a temp dir on a free loopback port, started from Debian's binaries (never the
# system services) and always stopped. Source this file, then:
#   harness_init               temp dir in $HARNESS_TMP; a trap stops everything on exit
#   pg_start / pg_stop         sets PG_HOST (socket dir), PG_PORT, PG_CONNINFO; pg_sql ARGS
#   pg_stop [MODE]             fast (default) or immediate; pg_resume starts it again
#   wait_sql SQL EXPECTED SECS polls the query until it prints EXPECTED
#   broker_start [CONF_LINES]  sets MQTT_PORT, MQTT_URI; broker_stop; broker_resume
# Each *_start returns non-zero (with the server's log on stderr) if it does not come up.
# harness_skip_unless_servers exits 77 (skip) when the binaries are not installed.

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

harness_skip_unless_servers() {
	if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/pg_ctl" ] || [ ! -x "$MOSQUITTO" ]; then
		echo "SKIP: PostgreSQL or Mosquitto is not installed (sh deploy/install-deps.sh)"
		exit 77
	fi
}

harness_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

harness_cleanup() {
	broker_stop
	pg_stop
	[ -n "${HARNESS_TMP:-}" ] && rm -rf "$HARNESS_TMP"
}

harness_init() {
	HARNESS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/citylink-test.XXXXXX") || return 1
	chmod 755 "$HARNESS_TMP"
	# PostgreSQL refuses to run as root: then its cluster belongs to the postgres user.
	HARNESS_AS=""
	if [ "$(id -u)" -eq 0 ]; then
		HARNESS_AS="runuser -u postgres --"
		mkdir -p "$HARNESS_TMP/pg" && chown postgres "$HARNESS_TMP/pg"
	else
		mkdir -p "$HARNESS_TMP/pg"
	fi
	# Replaces tests/cli/lib.sh's trap, so its scratch dir ($TMP) goes too.
	trap 'harness_cleanup; [ -n "${TMP:-}" ] && rm -rf "$TMP"' EXIT
	trap 'exit 1' INT TERM
}

pg_start() {
	PG_PORT=$(harness_free_port) || return 1
	PG_HOST=$HARNESS_TMP/pg
	$HARNESS_AS "$PGBIN/initdb" -D "$PG_HOST/data" -U postgres --auth=trust -E UTF8 --locale=C \
		>"$HARNESS_TMP/initdb.log" 2>&1 || { cat "$HARNESS_TMP/initdb.log" >&2; return 1; }
	cat >>"$PG_HOST/data/postgresql.conf" <<-CONF
	port = $PG_PORT
	listen_addresses = '127.0.0.1'
	unix_socket_directories = '$PG_HOST'
	CONF
	$HARNESS_AS "$PGBIN/pg_ctl" -D "$PG_HOST/data" -l "$PG_HOST/server.log" -w -t 30 start \
		>/dev/null 2>&1 || { cat "$PG_HOST/server.log" >&2; return 1; }
	PG_CONNINFO="host=$PG_HOST port=$PG_PORT user=postgres dbname=postgres"
}

pg_stop() {
	[ -n "${PG_HOST:-}" ] && [ -f "$PG_HOST/data/postmaster.pid" ] &&
		$HARNESS_AS "$PGBIN/pg_ctl" -D "$PG_HOST/data" -m "${1:-fast}" -w stop >/dev/null 2>&1
	return 0
}

# Starts the stopped cluster again: same data, same port.
pg_resume() {
	$HARNESS_AS "$PGBIN/pg_ctl" -D "$PG_HOST/data" -l "$PG_HOST/server.log" -w -t 30 start \
		>/dev/null 2>&1 || { cat "$PG_HOST/server.log" >&2; return 1; }
}

pg_sql() {
	"$PGBIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -X -q -A -t \
		-v ON_ERROR_STOP=1 "$@"
}

# wait_sql SQL EXPECTED SECONDS: polls until the query prints EXPECTED; $got has the last
# answer either way.
wait_sql() {
	got=""
	for _ in $(seq 1 $(($3 * 10))); do
		got=$(pg_sql -c "$1" 2>/dev/null)
		[ "$got" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

broker_start() {
	MQTT_PORT=$(harness_free_port) || return 1
	mkdir -p "$HARNESS_TMP/mqtt"
	# Started as root, Mosquitto drops to its own user, which must own its files.
	[ "$(id -u)" -eq 0 ] && chown mosquitto "$HARNESS_TMP/mqtt"
	{
		echo "listener $MQTT_PORT 127.0.0.1"
		echo "allow_anonymous true"
		echo "persistence true"
		echo "persistence_location $HARNESS_TMP/mqtt/"
		echo "log_dest file $HARNESS_TMP/mqtt/broker.log"
		echo "pid_file $HARNESS_TMP/mqtt/broker.pid"
		# As the shipped broker config: a window of 1000 unacknowledged QoS 1 messages
		# each way (Mosquitto's default 20 halves a publisher's rate), and a queue per
		# client far above the default 1000, beyond which Mosquitto drops messages for a
		# subscriber that falls behind (say, one of std/ while ingest drains a backlog).
		echo "max_inflight_messages 1000"
		echo "max_queued_messages 2000000"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$HARNESS_TMP/mqtt/mosquitto.conf"
	broker_resume
}

# Starts the broker (again) from its config: same port, same persistence.
broker_resume() {
	"$MOSQUITTO" -c "$HARNESS_TMP/mqtt/mosquitto.conf" -d || return 1
	# Ready when it accepts a connection.
	for _ in $(seq 1 100); do
		if python3 -c "import socket; socket.create_connection(('127.0.0.1', $MQTT_PORT), 0.2)" 2>/dev/null; then
			MQTT_URI=mqtt://127.0.0.1:$MQTT_PORT
			return 0
		fi
		sleep 0.05
	done
	cat "$HARNESS_TMP/mqtt/broker.log" >&2
	return 1
}

broker_stop() {
	[ -n "${HARNESS_TMP:-}" ] && [ -f "$HARNESS_TMP/mqtt/broker.pid" ] || return 0
	pid=$(cat "$HARNESS_TMP/mqtt/broker.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$HARNESS_TMP/mqtt/broker.pid"
}

# broker_start_conf FILE [CONF_LINES]: runs Mosquitto with a shipped config file (one
# source of truth), rewriting only what a test must: each "listener N" gets a free port
# (BROKER_PORT_N; MQTT_PORT/MQTT_URI name the first listener), /etc/citylink/broker/
# becomes $BROKER_ETC/ (default $HARNESS_TMP/broker; the caller fills it first: passwd,
# acl, tls/) and /var/lib/mosquitto/ the harness's own dir; a log and pid file are added.
broker_start_conf() {
	src=$1
	shift
	BROKER_ETC=${BROKER_ETC:-$HARNESS_TMP/broker}
	mkdir -p "$HARNESS_TMP/mqtt"
	cp "$src" "$HARNESS_TMP/mqtt/mosquitto.conf"
	MQTT_PORT=""
	for n in $(sed -n 's/^listener \([0-9][0-9]*\).*/\1/p' "$src"); do
		p=$(harness_free_port) || return 1
		sed -i "s/^listener $n\\b/listener $p/" "$HARNESS_TMP/mqtt/mosquitto.conf"
		eval "BROKER_PORT_$n=$p"
		[ -n "$MQTT_PORT" ] || MQTT_PORT=$p
	done
	sed -i -e "s|/etc/citylink/broker/|$BROKER_ETC/|g" \
		-e "s|/var/lib/mosquitto/|$HARNESS_TMP/mqtt/|g" "$HARNESS_TMP/mqtt/mosquitto.conf"
	{
		echo "log_dest file $HARNESS_TMP/mqtt/broker.log"
		echo "pid_file $HARNESS_TMP/mqtt/broker.pid"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >>"$HARNESS_TMP/mqtt/mosquitto.conf"
	# Started as root, Mosquitto drops to its own user, which must read and own its files.
	[ "$(id -u)" -eq 0 ] && chown -R mosquitto "$HARNESS_TMP/mqtt" "$BROKER_ETC"
	broker_resume
}
