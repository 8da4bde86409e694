// This file records the api's usage-counter checks: each attempt to consume
// a unit of a counter (a quota) and whether it was allowed.

package metrics

import "github.com/prometheus/client_golang/prometheus"

func (m *Metrics) initUsage() {
	m.usageConsumes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_usage_consumes_total",
		Help: "Attempts to consume a usage counter, by counter and result (accepted or refused).",
	}, []string{"counter", "result"})
	m.registry.MustRegister(m.usageConsumes)
}

// CounterCall records one attempt to consume the usage counter named counter
// in photogen_usage_consumes_total{counter,result}, with result "accepted"
// when accepted is true and "refused" otherwise. The first call for a counter
// creates both series, the other at zero. counter must be one of the code's
// fixed counter names, never a user or request value.
func (m *Metrics) CounterCall(counter string, accepted bool) {
	result, other := "accepted", "refused"
	if !accepted {
		result, other = other, result
	}
	m.usageConsumes.WithLabelValues(counter, other) // creates the series at 0 if missing
	m.usageConsumes.WithLabelValues(counter, result).Inc()
}
