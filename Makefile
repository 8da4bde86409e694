# photogen's developer commands: `make help` lists them. Everything that needs PostgreSQL
# goes through internal/dev/pg.sh, which finds a server or starts a throwaway one.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

GO ?= go
# Where `make build` writes the binary (the version test builds one elsewhere).
BIN ?= bin/photogen
# The revision `photogen version` prints, stamped into the binary so that it is there
# however Go's own VCS stamping is set (GOFLAGS=-buildvcs=false, a copy without .git).
# Empty outside a git checkout: the binary then falls back to Go's stamping, if any.
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
MODIFIED ?= $(shell if [ -n "$$(git status --porcelain 2>/dev/null)" ]; then echo true; else echo false; fi)
LDFLAGS = -X main.revision=$(REVISION) -X main.modified=$(MODIFIED)
TESTFLAGS ?=
BENCHFLAGS ?= -benchtime 3x
# How much `make test` fuzzes each JSON body the api accepts (internal/dev/fuzz.sh): a
# count of inputs, not a duration. A duration's deadline races the fuzzing workers in the
# Go toolchain we use (go.dev/issue/75804, fixed in Go 1.27): on a busy machine a target
# then fails with "context deadline exceeded" and no failing input.
FUZZTIME ?= 100x
PG := internal/dev/pg.sh
# Tools beyond the go command (promtool, staticcheck, govulncheck, versitygw):
# `$(TOOLS) NAME` prints the path, installing when missing. versitygw is the real S3 server
# the tests start (internal/s3server): built once here, before the tests, from the Go module proxy.
TOOLS := internal/dev/tools.sh
# Checks and unit-tests the Prometheus alerting rules with promtool.
PROMTOOL_TEST := internal/dev/promtool-test.sh

.PHONY: help build run demo test bench chaos lint fmt clean clean-data

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/photogen, stamped with the git revision (`bin/photogen version`)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/photogen

run: build ## run api + worker on 127.0.0.1:8080 (finds or starts PostgreSQL; fake Replicate unless REPLICATE_API_TOKEN)
	$(PG) exec --persist data/postgres -- internal/dev/run.sh

demo: build ## drive the whole flow against `make run` (in another terminal)
	STRIPE_WEBHOOK_SECRET="$${STRIPE_WEBHOOK_SECRET:-whsec_photogen_dev_secret_do_not_use_in_prod}" bin/photogen demo

test: ## run every test with the race detector against a real PostgreSQL and S3 server, the alert rules' tests, then each fuzz target for FUZZTIME (TESTFLAGS=...)
	$(PROMTOOL_TEST)
	PROMTOOL="$$($(TOOLS) promtool)" VERSITYGW="$$($(TOOLS) versitygw)" $(PG) exec --own -- $(GO) test -race -count=1 -timeout 30m $(TESTFLAGS) ./...
	$(PG) exec --own -- env GO=$(GO) internal/dev/fuzz.sh $(FUZZTIME)

bench: ## run the benchmarks and print the results (BENCHFLAGS=..., default: -benchtime 3x)
	$(PG) exec -- $(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(BENCHFLAGS) ./...

chaos: ## the failure scenarios (crashes, provider faults, resets, frozen and vanished hosts, outages; CHAOS_SCALE=2 doubles them); prints summary tables
	internal/dev/netfault.sh
	$(PG) exec -- $(GO) test -tags chaos -run '^TestChaos' -count=1 -timeout 60m -v ./internal/e2e/ | grep -v '^{' 

lint: ## gofmt, go vet, staticcheck, govulncheck (skipped offline), compose.yaml and the Dockerfile (compose-go, BuildKit's linter), alert rules and their tests, dashboard queries (promtool), the Helm chart (helm lint and template, in Go)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags chaos ./internal/e2e/
	# -tags chaos: the chaos scenarios are linted too (no file is excluded by the tag).
	"$$($(TOOLS) staticcheck)" -tags chaos ./...
	internal/dev/vulncheck.sh
	$(PROMTOOL_TEST)
	# deploy/ also lints and renders the Helm chart with helm's Go packages (no binary).
	PROMTOOL="$$($(TOOLS) promtool)" $(GO) test -count=1 ./internal/composecheck/ ./deploy/

fmt: ## gofmt every Go file
	gofmt -w .

clean: ## remove build output (bin/); keeps the development database
	rm -rf bin

clean-data: ## remove the development database kept by `make run` (data/)
	rm -rf data
