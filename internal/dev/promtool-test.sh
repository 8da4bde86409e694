#!/usr/bin/env bash
# promtool-test.sh: check the Prometheus alerting rules and run their unit tests
# (deploy/prometheus/rules.yml and rules_test.yml) with promtool, found or installed by
# tools.sh. `make lint` runs it; so can `make test`. Exits non-zero when a rule is
# invalid or a test case fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

promtool=$(internal/dev/tools.sh promtool)
"$promtool" check rules deploy/prometheus/rules.yml
"$promtool" test rules deploy/prometheus/rules_test.yml
