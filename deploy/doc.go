// Package deploy holds what runs photogen besides its binary: the Prometheus rules
// (prometheus/), the Grafana dashboard (grafana/) and their provisioning. Its tests,
// run by `make lint`, check that these files agree with each other and with
// docs/operations.md.
package deploy
