// This file records the usage-counter checks: each attempt to consume
// a unit of a counter (a quota) and whether it was allowed.

package usage

import "github.com/prometheus/client_golang/prometheus"

// Metrics holds the usage counters' collectors.
type Metrics struct {
	consumes *prometheus.CounterVec
}

// NewMetrics registers photogen_usage_consumes_total on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{consumes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_usage_consumes_total",
		Help: "Attempts to consume a usage counter, by counter and result (accepted or refused).",
	}, []string{"counter", "result"})}
	reg.MustRegister(m.consumes)
	return m
}

// Consumed records one attempt to consume the usage counter named counter
// in photogen_usage_consumes_total{counter,result}, with result "accepted"
// when accepted is true and "refused" otherwise. The first call for a counter
// creates both series, the other at zero. counter must be one of the code's
// fixed counter names, never a user or request value.
func (m *Metrics) Consumed(counter string, accepted bool) {
	if m == nil {
		return
	}
	result, other := "accepted", "refused"
	if !accepted {
		result, other = other, result
	}
	m.consumes.WithLabelValues(counter, other) // creates the series at 0 if missing
	m.consumes.WithLabelValues(counter, result).Inc()
}
