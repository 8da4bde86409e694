#!/usr/bin/env bash
# pg.sh: find or start the PostgreSQL that `make test`, `make bench` and `make run` use.
#
#   internal/dev/pg.sh exec [--persist DIR] -- CMD...   run CMD with a server available
#   internal/dev/pg.sh url                              print a reachable admin URL, or exit 1
#
# Resolution order: PHOTOGEN_PG_URL if set; else a server on 127.0.0.1:5432; else a
# cluster started here from the installed binaries (PostgreSQL is installed with apt when
# there are none and we are root). A started cluster listens on 127.0.0.1 only, on a free
# port; it is stopped when CMD ends, and removed unless --persist names its directory.
# initdb refuses root, so as root the cluster belongs to the postgres user.
#
# CMD sees PHOTOGEN_PG_URL and PHOTOGEN_TEST_DATABASE_URL (the same admin URL, database
# postgres: tests create and drop their own databases through it) and PHOTOGEN_PG_BINDIR
# (where pg_ctl is, for tests that start and restart a throwaway cluster of their own).
set -euo pipefail

log() { echo "pg.sh: $*" >&2; }

probe_port=${PHOTOGEN_PG_PROBE_PORT:-5432}

reachable() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h 127.0.0.1 -p "$1" -t 3
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

find_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
	done
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir)
		if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
	fi
	if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
	return 1
}

install_postgres() {
	if [ "$(id -u)" != 0 ]; then
		log "no PostgreSQL binaries found and not root: install PostgreSQL (apt-get install postgresql)"
		exit 1
	fi
	log "no PostgreSQL binaries found: installing Debian's postgresql package"
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
}

as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
	local p
	for p in $(seq 55432 55499); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	log "no free port in 55432-55499"
	return 1
}

started_dir=""
remove_dir=""

stop_cluster() {
	if [ -n "$started_dir" ]; then
		as_owner "$bindir/pg_ctl" -D "$started_dir" -m fast -w stop >/dev/null 2>&1 || true
		log "stopped the cluster in $started_dir"
		if [ -n "$remove_dir" ]; then rm -rf "$remove_dir"; fi
		started_dir=""
	fi
}

# start_cluster DIR EPHEMERAL: initialise DIR if empty and start a server on it.
start_cluster() {
	local dir=$1 ephemeral=$2 opts
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
	chmod 700 "$dir"
	if [ ! -s "$dir/PG_VERSION" ]; then
		as_owner "$bindir/initdb" -D "$dir" -A trust -U postgres -E UTF8 --no-sync >/dev/null
	fi
	port=$(free_port)
	opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=300"
	if [ "$ephemeral" = 1 ]; then
		opts="$opts -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
	fi
	started_dir=$dir
	if ! as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null; then
		log "PostgreSQL did not start; its log:"
		cat "$dir/server.log" >&2 || true
		exit 1
	fi
	log "started PostgreSQL from $bindir on 127.0.0.1:$port (data in $dir)"
}

resolve() {
	bindir=$(find_bindir || true)
	if [ -n "${PHOTOGEN_PG_URL:-}" ]; then
		url=$PHOTOGEN_PG_URL
		return 0
	fi
	if reachable "$probe_port"; then
		url="postgres://postgres@127.0.0.1:$probe_port/postgres?sslmode=disable"
		return 0
	fi
	return 1
}

cmd_exec() {
	local persist=""
	while [ $# -gt 0 ]; do
		case $1 in
		--persist) persist=$2; shift 2 ;;
		--) shift; break ;;
		*) log "usage: pg.sh exec [--persist DIR] -- CMD..."; exit 2 ;;
		esac
	done
	[ $# -gt 0 ] || { log "usage: pg.sh exec [--persist DIR] -- CMD..."; exit 2; }
	if ! resolve; then
		if [ -z "$bindir" ]; then
			install_postgres
			bindir=$(find_bindir) || { log "PostgreSQL installed but initdb not found"; exit 1; }
		fi
		trap stop_cluster EXIT
		trap 'exit 130' INT TERM
		if [ -n "$persist" ]; then
			mkdir -p "$persist"
			start_cluster "$(cd "$persist" && pwd)" 0
		else
			remove_dir=$(mktemp -d /tmp/photogen-pg.XXXXXX)
			chmod 755 "$remove_dir"
			start_cluster "$remove_dir/data" 1
		fi
		url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	fi
	export PHOTOGEN_PG_URL=$url PHOTOGEN_TEST_DATABASE_URL=$url PHOTOGEN_PG_BINDIR=$bindir
	local rc=0
	"$@" || rc=$?
	stop_cluster
	return "$rc"
}

case ${1:-} in
exec) shift; cmd_exec "$@" ;;
url) if resolve; then echo "$url"; else exit 1; fi ;;
*) log "usage: pg.sh exec [--persist DIR] -- CMD... | pg.sh url"; exit 2 ;;
esac
