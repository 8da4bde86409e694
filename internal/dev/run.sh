#!/usr/bin/env bash
# run.sh: what `make run` runs inside pg.sh: make sure the photogen database exists,
# set development defaults for what is unset, migrate, and start api + worker in one
# process (with an in-process fake Replicate unless REPLICATE_API_TOKEN is set).
set -euo pipefail

if [ -z "${DATABASE_URL:-}" ]; then
	admin=${PHOTOGEN_PG_URL:?pg.sh sets PHOTOGEN_PG_URL}
	psql_bin=psql
	if [ -n "${PHOTOGEN_PG_BINDIR:-}" ] && [ -x "$PHOTOGEN_PG_BINDIR/psql" ]; then psql_bin=$PHOTOGEN_PG_BINDIR/psql; fi
	if [ "$("$psql_bin" "$admin" -Atc "SELECT 1 FROM pg_database WHERE datname = 'photogen'")" != 1 ]; then
		"$psql_bin" "$admin" -qc 'CREATE DATABASE photogen'
	fi
	export DATABASE_URL=${admin/\/postgres\?/\/photogen\?}
fi
export STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_photogen_dev_secret_do_not_use_in_prod}
export HTTP_ADDR=${HTTP_ADDR:-127.0.0.1:8080}
export PHOTOGEN_DEV=${PHOTOGEN_DEV:-1}
if [ -z "${REPLICATE_API_TOKEN:-}" ]; then
	# The fake answers quickly; poll it often so the demo shows steady progress.
	export REPLICATE_POLL_INTERVAL=${REPLICATE_POLL_INTERVAL:-100ms}
fi

bin/photogen migrate
exec bin/photogen all
