// This file records the latency and result of calls to the image provider
// (Replicate).

package metrics

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) initProvider() {
	m.providerDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "photogen_provider_request_duration_seconds",
		Help:    "Time a call to the image provider took, by operation and result (ok or error).",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"op", "result"})
	for _, op := range [...]string{"create", "get", "cancel", "list"} {
		for _, r := range [...]string{"ok", "error", "throttled"} {
			m.providerDuration.WithLabelValues(op, r)
		}
	}
	m.registry.MustRegister(m.providerDuration)
}

// ObserveProviderCall observes one provider call of operation op ("create",
// "get", "cancel" or "list") that took d in
// photogen_provider_request_duration_seconds{op,result}, with result "ok"
// when err is nil, "throttled" when err has a Throttled method that returns true (a
// provider 429), and "error" otherwise. Every op and result above has series
// from New on; another op is recorded as given. The histogram's _count gives
// the call count and error rate.
func (m *Metrics) ObserveProviderCall(op string, d time.Duration, err error) {
	var throttled interface{ Throttled() bool }
	result := "ok"
	switch {
	case errors.As(err, &throttled) && throttled.Throttled():
		result = "throttled"
	case err != nil:
		result = "error"
	}
	m.providerDuration.WithLabelValues(op, result).Observe(d.Seconds())
}
