#!/usr/bin/env bash
# netfault.sh: make sure of what `make chaos`'s fault scenarios (internal/e2e/chaos_faults_test.go)
# drive besides Go: ip (Debian's iproute2) for network namespaces and veth pairs, nft (Debian's
# nftables) for the packet drops inside them, unshare and nsenter (util-linux) for the photo
# store's mount namespace. Missing ones are installed with apt when we are root; the
# scenarios need root anyway (namespaces, mounts). Everything goes to stderr; the exit code
# is non-zero when anything is missing and cannot be installed, so `make chaos` fails loudly.
set -euo pipefail

log() { printf 'netfault.sh: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	log "the fault scenarios make network and mount namespaces: run make chaos as root"
	exit 1
fi
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
{ command -v unshare && command -v nsenter; } >/dev/null 2>&1 || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian's ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2; then
		apt-get update -q </dev/null >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2
	fi
fi
