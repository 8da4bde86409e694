#!/usr/bin/env bash
# run.sh: what `make run` runs inside `pg.sh exec`: make sure the photogen database exists,
# set development defaults for what is unset, migrate, and start api + worker in one
# process (with an in-process fake Replicate unless REPLICATE_API_TOKEN is set).
#
# DATABASE_URL, when set, is used as is; otherwise it is PHOTOGEN_PG_URL (from pg.sh)
# pointing at database photogen, which is created when missing.
set -euo pipefail

log() { printf 'run.sh: %s\n' "$*" >&2; }

if [ -z "${DATABASE_URL:-}" ]; then
	admin=${PHOTOGEN_PG_URL:?run.sh runs inside pg.sh exec, which sets PHOTOGEN_PG_URL}
	# postgres://user@host:port[/db][?params] -> the same with /photogen.
	if [[ ! $admin =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]]; then
		log "PHOTOGEN_PG_URL is not a postgres:// URL; set DATABASE_URL instead"
		exit 1
	fi
	export DATABASE_URL="${BASH_REMATCH[1]}/photogen${BASH_REMATCH[4]}"

	psql=psql
	if [ -n "${PHOTOGEN_PG_BINDIR:-}" ] && [ -x "$PHOTOGEN_PG_BINDIR/psql" ]; then
		psql=$PHOTOGEN_PG_BINDIR/psql
	elif ! command -v psql >/dev/null 2>&1; then
		log "psql not found: create database photogen yourself, or set DATABASE_URL"
		exit 1
	fi
	if ! out=$("$psql" "$admin" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE photogen' 2>&1); then
		case $out in
		*"already exists"*) ;;
		*)
			log "could not create database photogen: $out"
			exit 1
			;;
		esac
	fi
fi

export STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_photogen_dev_secret_do_not_use_in_prod}
export AUTH_JWT_SECRET=${AUTH_JWT_SECRET:-photogen-dev-jwt-secret-do-not-use-in-prod}
export PHOTO_NAME_SECRET=${PHOTO_NAME_SECRET:-photogen-dev-photo-names-do-not-use-in-prod}
# River UI at /admin/river/ (any user name, this password); the banner says where.
export OPERATOR_TOKEN=${OPERATOR_TOKEN:-photogen-dev-operator-token-do-not-use-in-prod}
export HTTP_ADDR=${HTTP_ADDR:-127.0.0.1:8080}
export PHOTOGEN_DEV=${PHOTOGEN_DEV:-1}
if [ -z "${REPLICATE_API_TOKEN:-}" ]; then
	# The in-process fake Replicate calls the api back, as Replicate would call a public URL.
	export REPLICATE_WEBHOOK_URL=${REPLICATE_WEBHOOK_URL:-http://$HTTP_ADDR/webhooks/replicate}
fi

bin/photogen migrate
exec bin/photogen all
