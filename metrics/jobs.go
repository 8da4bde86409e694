// This file records the worker's River job runs: how each ended and how long
// it took, by job kind.

package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) initJobs() {
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_job_runs_total",
		Help: "River job runs finished by this worker, by job kind and outcome.",
	}, []string{"kind", "outcome"})
	m.jobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "photogen_job_run_duration_seconds",
		Help: "Time a River job run took, by job kind.",
		// 50ms up to 30 minutes: from a quick poll to a long prediction.
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800},
	}, []string{"kind"})
	m.registry.MustRegister(m.jobRuns, m.jobDuration)
}

// ObserveJobRun records one finished run of a job of the given kind: it adds
// one to photogen_job_runs_total{kind,outcome} and observes d in
// photogen_job_run_duration_seconds{kind}. outcome is one of "completed",
// "snoozed", "retried" or "cancelled"; the first run of a kind creates the
// series of all four at zero. Another outcome (such as "discarded") is
// recorded as given. kind and outcome must come from code, never from input.
func (m *Metrics) ObserveJobRun(kind, outcome string, d time.Duration) {
	for _, o := range [...]string{"completed", "snoozed", "retried", "cancelled"} {
		m.jobRuns.WithLabelValues(kind, o) // creates the series at 0 if missing
	}
	m.jobRuns.WithLabelValues(kind, outcome).Inc()
	m.jobDuration.WithLabelValues(kind).Observe(d.Seconds())
}
