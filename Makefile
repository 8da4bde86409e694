# photogen: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash

GO ?= go
TESTFLAGS ?=
BENCHFLAGS ?= -benchtime 3x
PG := internal/dev/pg.sh

.PHONY: help build run demo test bench lint fmt clean clean-data

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/photogen
	$(GO) build -o bin/photogen ./cmd/photogen

run: build ## run api + worker locally (finds or starts PostgreSQL; fake Replicate unless REPLICATE_API_TOKEN)
	$(PG) exec --persist data/postgres -- internal/dev/run.sh

demo: build ## drive the whole flow against `make run` (in another terminal)
	bin/photogen demo --webhook-secret "$${STRIPE_WEBHOOK_SECRET:-whsec_photogen_dev_secret_do_not_use_in_prod}"

test: ## run every test with the race detector against a real PostgreSQL
	$(PG) exec -- $(GO) test -race -count=1 -timeout 30m $(TESTFLAGS) ./...

bench: ## run the benchmarks (docs/benchmarks.md explains the figures)
	$(PG) exec -- $(GO) test -run '^$$' -bench . -benchmem $(BENCHFLAGS) ./...

lint: ## gofmt, go vet and the compose file check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./internal/composecheck/

fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

clean: ## remove build output
	rm -rf bin

clean-data: ## remove the local development database (data/)
	rm -rf data
