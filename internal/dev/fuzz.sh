#!/usr/bin/env bash
# fuzz.sh: run each fuzz target of the api for a short fixed time, one after the other
# (a fuzzing run takes one target). `make test` runs it after the other tests, inside
# pg.sh exec: the targets talk to a real PostgreSQL.
#
#   internal/dev/fuzz.sh [FUZZTIME]     default 100x (inputs) per target; a duration such as 5s
#                                       also works, but see FUZZTIME in the Makefile
#
# The test binary is built once, instrumented for fuzzing; the corpus each run grows is
# kept where `go test -fuzz` keeps it (GOCACHE). A failure leaves the input that found
# it in api/testdata/fuzz/<target>/: commit it with the fix, and it runs as a seed in
# every `go test` from then on.
set -euo pipefail
cd "$(dirname "$0")/../.."

fuzztime=${1:-100x}
go=${GO:-go}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
"$go" test -c -fuzz . -o "$bin/api.test" ./api/
cache=$("$go" env GOCACHE)/fuzz/photogen/api
cd api
for target in FuzzSignUp FuzzGeneratePaid FuzzStripeWebhook FuzzReplicateWebhook FuzzConsume; do
	printf 'fuzz.sh: %s for %s\n' "$target" "$fuzztime" >&2
	"$bin/api.test" -test.run '^$' -test.fuzz "^${target}\$" -test.fuzztime "$fuzztime" \
		-test.fuzzcachedir "$cache/$target"
done
