#!/usr/bin/env bash
# pg.sh: find or start the PostgreSQL that `make test`, `make bench` and `make run` use.
#
#   internal/dev/pg.sh exec [--persist DIR] -- CMD...   run CMD with a server available
#   internal/dev/pg.sh exec --own -- CMD...             run CMD with a throwaway cluster of
#                                                       its own, whatever else runs
#   internal/dev/pg.sh url                              print the admin URL exec would use
#                                                       without starting anything, or exit 1
#
# Resolution order:
#   (a) PHOTOGEN_PG_URL, if set (an admin URL);
#   (b) a server accepting connections on 127.0.0.1:5432 (as postgres, trust auth);
#   (c) a cluster started here from the installed binaries (the newest
#       /usr/lib/postgresql/*/bin, else `pg_config --bindir`, else initdb on PATH;
#       Debian's postgresql package is installed with apt when there are none and we are root).
# A started cluster listens on 127.0.0.1 only, on a free port in 55432-55499, with its unix
# socket beside its data directory. It is stopped when CMD ends (also on failure or
# ctrl-C) and removed, unless --persist DIR keeps its data in DIR for the next run. Only a
# throwaway cluster trades durability for speed (fsync off); a --persist one keeps the
# defaults. initdb refuses root, so as root the cluster belongs to the postgres user.
#
# CMD sees PHOTOGEN_PG_URL and PHOTOGEN_TEST_DATABASE_URL (the same admin URL, database
# postgres: tests create and drop their own databases through it) and PHOTOGEN_PG_BINDIR
# (where initdb and pg_ctl are, for tests that start and restart a cluster of their own;
# empty when no binaries are installed). The exit code is CMD's.
#
# --own skips (a) and (b): `make test` uses it, so that the suite has a server to itself
# (300 connections, fsync off), isolated from whatever else uses the machine's server.
#
# PG_EXTRA_OPTS adds server settings to a cluster started here, for a diagnosis: for
# example PG_EXTRA_OPTS="-c log_statement=all" logs every statement to server.log beside
# the data directory (docs/benchmarks.md reads the cost benchmark's this way).
#
# PHOTOGEN_PG_PROBE_PORT (default 5432) is the port step (b) probes; tests of this script
# point it at a port where nothing listens to exercise step (c) without stopping the
# machine's server.
set -euo pipefail

log() { printf 'pg.sh: %s\n' "$*" >&2; }
usage() {
	log "usage: pg.sh exec [--persist DIR | --own] -- CMD...  |  pg.sh url"
	exit 2
}

probe_port=${PHOTOGEN_PG_PROBE_PORT:-5432}
bindir=""      # directory of initdb, pg_ctl, pg_isready ("" when none is installed)
url=""         # the admin URL handed to CMD
port=""        # the port of the cluster started here
started=""     # data directory of the cluster started here, stopped on exit
cleanup_dirs=() # removed on exit, after the cluster is stopped

# find_bindir prints the directory of the newest installed initdb, or fails.
find_bindir() {
	local d newest=""
	if [ -n "${PHOTOGEN_PG_BINDIR:-}" ] && [ -x "$PHOTOGEN_PG_BINDIR/pg_ctl" ]; then
		echo "$PHOTOGEN_PG_BINDIR"
		return 0
	fi
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ]; then
			newest=$(printf '%s\n%s\n' "$newest" "$d" | sort -V | tail -n 1)
		fi
	done
	if [ -n "$newest" ]; then
		echo "$newest"
		return 0
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir)
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return 0
		fi
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	return 1
}

# accepting PORT succeeds when a server accepts connections on 127.0.0.1:PORT.
accepting() {
	local isready=""
	if [ -n "$bindir" ] && [ -x "$bindir/pg_isready" ]; then
		isready=$bindir/pg_isready
	elif pg_isready --version >/dev/null 2>&1; then
		# Debian's /usr/bin/pg_isready is a wrapper that fails when no client is installed.
		isready=pg_isready
	fi
	if [ -n "$isready" ]; then
		"$isready" -q -h 127.0.0.1 -p "$1" -t 3
	else
		listening "$1"
	fi
}

# listening PORT succeeds when anything accepts TCP connections on 127.0.0.1:PORT.
listening() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

install_postgres() {
	if [ "$(id -u)" != 0 ]; then
		log "no PostgreSQL binaries found and not root: install PostgreSQL (apt-get install postgresql) or set PHOTOGEN_PG_URL"
		exit 1
	fi
	log "no PostgreSQL binaries found: installing Debian's postgresql package"
	apt-get update -q </dev/null >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql </dev/null >&2
}

# as_owner runs a command as the cluster's owner: postgres when we are root, else us.
# It runs from / so that the owner never needs access to the caller's directory.
as_owner() {
	if [ "$(id -u)" != 0 ]; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && su -s /bin/sh postgres -c "$(printf '%q ' "$@")")
	fi
}

# own DIR... makes directories the cluster's owner can write, and only it.
own() {
	mkdir -p "$@"
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$@"
	fi
	chmod 700 "$@"
}

cleanup() {
	if [ -n "$started" ]; then
		if as_owner "$bindir/pg_ctl" -D "$started" -m fast -w -t 60 stop >/dev/null 2>&1; then
			log "stopped the cluster in $started"
		else
			log "could not stop the cluster in $started (already stopped?)"
		fi
		started=""
	fi
	if [ ${#cleanup_dirs[@]} -gt 0 ]; then
		rm -rf "${cleanup_dirs[@]}"
		log "removed ${cleanup_dirs[*]}"
		cleanup_dirs=()
	fi
}

# start_cluster DIR THROWAWAY: initialise DIR if needed and start a server on it on a
# free port, which it leaves in $port.
start_cluster() {
	local dir=$1 throwaway=$2 sock opts out p
	if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$(dirname "$dir")"; then
		log "user postgres cannot reach $(dirname "$dir"): use another --persist directory"
		exit 1
	fi
	own "$dir"
	if [ ! -s "$dir/PG_VERSION" ]; then
		if ! out=$(as_owner "$bindir/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C --no-sync 2>&1); then
			log "initdb failed:"
			printf '%s\n' "$out" >&2
			exit 1
		fi
		log "initialised a cluster in $dir"
	elif as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		# Left running by another `make run` (or one that was killed): share it, leave it running.
		port=$(sed -n 4p "$dir/postmaster.pid")
		log "the cluster in $dir already runs on port $port: using it and leaving it running"
		return 0
	fi
	# The socket and the server log go in DIR-run, beside the data directory (not in
	# /var/run, which the machine's own server uses), unless that path is too long for a
	# unix socket.
	sock="$dir-run"
	if [ ${#sock} -gt 80 ]; then
		sock=$(mktemp -d /tmp/photogen-pgrun.XXXXXX)
		cleanup_dirs+=("$sock")
	fi
	own "$sock"
	started=$dir
	for p in $(seq 55432 55499); do
		if listening "$p"; then
			continue
		fi
		opts="-c listen_addresses=127.0.0.1 -c port=$p -c unix_socket_directories='$sock' -c max_connections=300 ${PG_EXTRA_OPTS:-}"
		if [ "$throwaway" = 1 ]; then
			opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
		fi
		: >"$sock/server.log"
		if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$sock/server.log"; fi
		if as_owner "$bindir/pg_ctl" -D "$dir" -l "$sock/server.log" -o "$opts" -w -t 60 start >/dev/null 2>&1; then
			port=$p
			break
		fi
		if grep -q 'already in use' "$sock/server.log"; then
			continue # another process took the port between the check and the start
		fi
		log "PostgreSQL did not start; its log:"
		cat "$sock/server.log" >&2 || true
		exit 1
	done
	if [ -z "$port" ]; then
		log "no free port in 55432-55499"
		exit 1
	fi
	for _ in $(seq 1 60); do
		if accepting "$port"; then
			log "started PostgreSQL from $bindir on 127.0.0.1:$port (data in $dir)"
			return 0
		fi
		sleep 0.5
	done
	log "PostgreSQL started but does not accept connections on port $port; its log:"
	cat "$sock/server.log" >&2 || true
	exit 1
}

# resolve sets url to (a) or (b), or fails.
resolve() {
	bindir=$(find_bindir) || bindir=""
	if [ -n "${PHOTOGEN_PG_URL:-}" ]; then
		url=$PHOTOGEN_PG_URL
		return 0
	fi
	if accepting "$probe_port"; then
		url="postgres://postgres@127.0.0.1:$probe_port/postgres?sslmode=disable"
		return 0
	fi
	return 1
}

cmd_exec() {
	local persist="" own="" base rc=0
	while [ $# -gt 0 ]; do
		case $1 in
		--own)
			own=1
			shift
			;;
		--persist)
			[ $# -ge 2 ] || usage
			persist=$2
			shift 2
			;;
		--)
			shift
			break
			;;
		*) usage ;;
		esac
	done
	[ $# -gt 0 ] || usage

	if [ -n "$own" ]; then
		[ -z "$persist" ] || usage
		bindir=$(find_bindir) || bindir=""
	elif resolve; then
		export PHOTOGEN_PG_URL=$url PHOTOGEN_TEST_DATABASE_URL=$url PHOTOGEN_PG_BINDIR=$bindir
		exec "$@"
	fi

	if [ -z "$bindir" ]; then
		install_postgres
		bindir=$(find_bindir) || {
			log "PostgreSQL is installed but initdb is not found"
			exit 1
		}
	fi
	trap cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [ -n "$persist" ]; then
		mkdir -p "$persist"
		start_cluster "$(cd "$persist" && pwd -P)" 0
	else
		base=$(mktemp -d /tmp/photogen-pg.XXXXXX)
		cleanup_dirs+=("$base")
		chmod 755 "$base"
		start_cluster "$base/data" 1
	fi
	url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	export PHOTOGEN_PG_URL=$url PHOTOGEN_TEST_DATABASE_URL=$url PHOTOGEN_PG_BINDIR=$bindir
	"$@" || rc=$?
	cleanup
	return "$rc"
}

case ${1:-} in
exec)
	shift
	cmd_exec "$@"
	;;
url)
	if resolve; then
		echo "$url"
	else
		exit 1
	fi
	;;
*) usage ;;
esac
