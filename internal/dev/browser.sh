#!/usr/bin/env bash
# browser.sh: find or install what the page's browser tests use, and print Chromium's path.
#
#   internal/dev/browser.sh            make sure of both, then print Chromium's path
#   internal/dev/browser.sh chromium   only Chromium: print its path
#
# Chromium: PHOTOGEN_CHROMIUM if set (it must be executable), else the first of chromium,
# chromium-browser on PATH; when there is none and we are root, Debian's chromium and
# chromium-driver packages are installed with apt (noninteractive, quiet). No browser is ever
# downloaded from anywhere else: Playwright's own browser downloads do not work here.
#
# playwright-core: installed with `npm ci` from internal/browser/package-lock.json into
# internal/browser/node_modules (git-ignored), unless the pinned version is there already.
# Node.js and npm are installed with apt when missing and we are root.
#
# Everything but the path goes to stderr; the exit code is non-zero when anything is missing
# and cannot be installed, so a test that calls this fails loudly rather than skipping.
# Concurrent runs (two `go test` processes) wait for each other on a lock in /tmp.
set -euo pipefail

log() { printf 'browser.sh: %s\n' "$*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
driver_dir=$(cd "$here/../browser" && pwd -P)
apt_updated=""

apt_install() {
	if [ "$(id -u)" != 0 ]; then
		log "$* not installed and not root: install it (apt-get install $*) or set PHOTOGEN_CHROMIUM"
		exit 1
	fi
	if [ -z "$apt_updated" ]; then
		log "running apt-get update"
		apt-get update -q </dev/null >&2
		apt_updated=1
	fi
	log "installing Debian's $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null >&2
}

# find_chromium prints the path of an installed Chromium, or fails.
find_chromium() {
	local c
	for c in chromium chromium-browser; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

# chromium_path prints Chromium's path, installing it first when needed.
chromium_path() {
	local path
	if [ -n "${PHOTOGEN_CHROMIUM:-}" ]; then
		# The caller's choice: used as it is, never replaced by an install.
		if [ ! -x "$PHOTOGEN_CHROMIUM" ]; then
			log "PHOTOGEN_CHROMIUM=$PHOTOGEN_CHROMIUM is not an executable file"
			exit 1
		fi
		path=$PHOTOGEN_CHROMIUM
	elif ! path=$(find_chromium); then
		apt_install chromium chromium-driver
		path=$(find_chromium) || {
			log "chromium was installed but is not on PATH"
			exit 1
		}
	fi
	# Debian's /usr/bin/chromium is a wrapper script; --version runs the real binary.
	if ! "$path" --version >/dev/null 2>&1; then
		log "$path --version failed: this Chromium cannot start"
		exit 1
	fi
	echo "$path"
}

# pinned prints the version of playwright-core that package.json pins.
pinned() {
	node -e 'process.stdout.write(require(process.argv[1]).dependencies["playwright-core"])' "$driver_dir/package.json"
}

# installed prints the version of playwright-core in node_modules, or nothing.
installed() {
	local pj="$driver_dir/node_modules/playwright-core/package.json"
	if [ -f "$pj" ]; then
		node -e 'process.stdout.write(require(process.argv[1]).version)' "$pj"
	fi
}

ensure_playwright() {
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		apt_install nodejs npm
	fi
	local want
	want=$(pinned)
	if [ "$(installed)" = "$want" ]; then
		return 0
	fi
	log "installing playwright-core $want into $driver_dir/node_modules"
	(cd "$driver_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
	if [ "$(installed)" != "$want" ]; then
		log "npm ci did not install playwright-core $want"
		exit 1
	fi
}

main() {
	local path
	exec 9>/tmp/photogen-browser.lock
	flock 9
	case ${1:-all} in
	chromium)
		chromium_path
		;;
	all)
		path=$(chromium_path)
		ensure_playwright
		echo "$path"
		;;
	*)
		log "usage: browser.sh [chromium]"
		exit 2
		;;
	esac
}

main "$@"
