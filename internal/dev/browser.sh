#!/usr/bin/env bash
# browser.sh: find or install the browser the page's tests drive (internal/browser, chromedp
# in Go), and print Chromium's path.
#
#   internal/dev/browser.sh
#
# Chromium: PHOTOGEN_CHROMIUM if set (it must be executable), else the first of chromium,
# chromium-browser on PATH; when there is none and we are root, Debian's chromium package is
# installed with apt (noninteractive, quiet). No browser is ever downloaded from anywhere
# else.
#
# Everything but the path goes to stderr; the exit code is non-zero when anything is missing
# and cannot be installed, so a test that calls this fails loudly rather than skipping.
# Concurrent runs (two `go test` processes) wait for each other on a lock in /tmp.
set -euo pipefail

log() { printf 'browser.sh: %s\n' "$*" >&2; }

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
		apt_install chromium
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

main() {
	if [ $# -gt 0 ]; then
		log "usage: browser.sh"
		exit 2
	fi
	exec 9>/tmp/photogen-browser.lock
	flock 9
	chromium_path
}

main "$@"
