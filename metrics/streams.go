// This file is the api's gauge of open event streams (GET /api/blueprint/events).

package metrics

import "github.com/prometheus/client_golang/prometheus"

// RegisterEventStreams adds the gauge photogen_event_streams, read from open at each
// scrape: the event streams this process has open. Call it once per process.
func (m *Metrics) RegisterEventStreams(open func() int) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "photogen_event_streams",
		Help: "Event streams (GET /api/blueprint/events) open in this api process; capped by EVENTS_MAX_STREAMS.",
	}, func() float64 { return float64(open()) }))
}
