#!/usr/bin/env bash
# promtool-test.sh: check compose's Prometheus configuration and the alerting rules it
# loads (deploy/prometheus/prometheus.yml, rules.yml), then run the rules' unit tests
# (rules_test.yml) with promtool, found or installed by tools.sh. `make lint` runs it;
# so can `make test`. Exits non-zero when the configuration or a rule is invalid or a
# test case fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

promtool=$(internal/dev/tools.sh promtool)
"$promtool" check config deploy/prometheus/prometheus.yml
"$promtool" test rules deploy/prometheus/rules_test.yml
