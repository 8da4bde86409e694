#!/usr/bin/env bash
# tools.sh: find, or install when missing, a tool that `make lint` needs besides Go, and
# print its path on stdout (progress goes to stderr).
#
#   internal/dev/tools.sh promtool        Prometheus's rule checker (Debian's prometheus package)
#   internal/dev/tools.sh staticcheck     Go's static checker (go install), kept in the tools directory
#   internal/dev/tools.sh govulncheck     Go's vulnerability checker (go install), kept in the tools directory
#   internal/dev/tools.sh versitygw       a real S3-compatible server for the tests (go install), kept in the
#                                         tools directory
#
# promtool: $PROMTOOL if set, else promtool on PATH. When there is none and we are root
# with apt, Debian's prometheus package is installed without its recommends, and no
# Prometheus server is left running: for the install, a policy-rc.d that denies every
# service start is put in place unless the machine has one, any prometheus process the
# install started anyway is stopped by its pid, and under systemd the unit is disabled.
# apt-get update runs only when the install fails without it.
#
# staticcheck, govulncheck, versitygw: $STATICCHECK / $GOVULNCHECK / $VERSITYGW if set, else
# the copy in $PHOTOGEN_TOOLS_DIR/bin (default ${XDG_CACHE_HOME:-~/.cache}/photogen-tools/bin),
# built there with `go install` at the pinned version below (from the Go module proxy; offline
# once the module cache holds it) when missing. One on PATH is not used: its version may differ.
# Concurrent calls build a tool once (flock). versitygw is Versity's S3 gateway over a POSIX
# directory (Apache 2.0): `make test` builds it (3 CPU-minutes on a cold build cache, 84 MB)
# and internal/s3server starts it. Nothing is written to the repo.
#
# The Dockerfile needs no tool here: BuildKit's own linter checks it in a Go test
# (internal/composecheck), which `make lint` runs.
set -euo pipefail

STATICCHECK_VERSION=v0.8.2
GOVULNCHECK_VERSION=v1.9.0
VERSITYGW_VERSION=v1.8.0

log() { printf 'tools.sh: %s\n' "$*" >&2; }
usage() {
	log "usage: tools.sh promtool|staticcheck|govulncheck|versitygw"
	exit 2
}

tools_dir=${PHOTOGEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/photogen-tools}

# prometheus_pids prints the pids of running /usr/bin/prometheus processes, one a line.
prometheus_pids() {
	local exe pid
	for exe in /proc/[0-9]*/exe; do
		pid=${exe#/proc/}
		pid=${pid%/exe}
		if [ "$(readlink "$exe" 2>/dev/null)" = /usr/bin/prometheus ]; then
			echo "$pid"
		fi
	done
}

apt_install() {
	local opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
	if ! DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@" </dev/null >&2; then
		log "apt-get install $* failed: updating the package lists and trying again"
		apt-get update -q -o DPkg::Lock::Timeout=600 </dev/null >&2
		DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@" </dev/null >&2
	fi
}

install_prometheus() {
	local policy=/usr/sbin/policy-rc.d made_policy="" before pid
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		log "promtool not found: install Prometheus's promtool (Debian: apt-get install prometheus) or set PROMTOOL"
		exit 1
	fi
	log "promtool not found: installing Debian's prometheus package (no server is left running)"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# tools.sh: no service starts while it installs prometheus\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=$policy
		trap 'rm -f "$made_policy"' EXIT
	fi
	before=$(prometheus_pids)
	apt_install prometheus
	if [ -n "$made_policy" ]; then
		rm -f "$made_policy"
		trap - EXIT
	fi
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now prometheus.service >&2 || true
	fi
	for pid in $(prometheus_pids); do
		if ! grep -qx "$pid" <<<"$before"; then
			log "stopping the prometheus server (pid $pid) that the install started"
			kill "$pid" 2>/dev/null || true
		fi
	done
}

find_promtool() {
	if [ -n "${PROMTOOL:-}" ]; then
		echo "$PROMTOOL"
		return 0
	fi
	if ! command -v promtool >/dev/null 2>&1; then
		install_prometheus
	fi
	command -v promtool || {
		log "the prometheus package is installed but promtool is not on PATH"
		exit 1
	}
}

# find_go_tool NAME MODULE/PATH VERSION OVERRIDE: the pinned build of a Go tool.
find_go_tool() {
	local name=$1 pkg=$2 version=$3 override=$4
	local bin=$tools_dir/bin/$name-$version
	if [ -n "$override" ]; then
		echo "$override"
		return 0
	fi
	if [ ! -x "$bin" ]; then
		mkdir -p "$tools_dir/bin"
		# One build at a time (the first one's result serves the others): the lock goes
		# with this subshell's descriptor 9.
		(
			flock 9
			if [ ! -x "$bin" ]; then
				log "$name $version not found: go install $pkg@$version into $tools_dir/bin"
				# First from the module cache alone, served as a proxy (a machine with no
				# network but a warm cache: `go install pkg@version` would otherwise ask the
				# proxy about the package's path, and fail offline); then from the proxy.
				local cache
				cache=$(go env GOMODCACHE)/cache/download
				if ! GOPROXY="file://$cache" GOBIN="$tools_dir/bin/.install-$name" \
					go install "$pkg@$version" </dev/null >&2 2>/dev/null; then
					GOBIN="$tools_dir/bin/.install-$name" go install "$pkg@$version" </dev/null >&2
				fi
				mv "$tools_dir/bin/.install-$name/$name" "$bin"
				rmdir "$tools_dir/bin/.install-$name"
			fi
		) 9>"$tools_dir/bin/.lock-$name"
	fi
	echo "$bin"
}

case ${1:-} in
promtool) find_promtool ;;
staticcheck) find_go_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION" "${STATICCHECK:-}" ;;
govulncheck) find_go_tool govulncheck golang.org/x/vuln/cmd/govulncheck "$GOVULNCHECK_VERSION" "${GOVULNCHECK:-}" ;;
versitygw) find_go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION" "${VERSITYGW:-}" ;;
*) usage ;;
esac
