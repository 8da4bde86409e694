// This file reports the River queue's depth and lag, read from the database
// when Prometheus scrapes rather than on a timer.

package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"
)

// queueStatsTimeout bounds each call to a QueueStatsFunc, so a slow database
// cannot hold a scrape past Prometheus's own timeout.
const queueStatsTimeout = 2 * time.Second

// QueueStatsFunc reports the job queue at the moment it is called: the number
// of jobs in each River state (keys are rivertype.JobState values such as
// "available") and how long the oldest available job has waited (zero when
// none waits). It must return when ctx is done. A non-nil err means the other
// results are not used.
type QueueStatsFunc func(ctx context.Context) (byState map[string]int, oldestAvailable time.Duration, err error)

// RegisterQueue adds to m's registry a collector that calls f on every
// scrape, with a context that expires after 2s, and reports
// photogen_jobs{state} and photogen_queue_oldest_available_seconds from its
// results. Every River job state is reported, at zero when f leaves it out;
// other states f returns are reported as given. When f fails, that scrape
// reports neither gauge and photogen_queue_stats_errors_total grows by one.
// RegisterQueue may be called once per Metrics; it panics if f is nil or if a
// queue collector is already registered.
func (m *Metrics) RegisterQueue(f QueueStatsFunc) {
	if f == nil {
		panic("metrics: RegisterQueue called with a nil QueueStatsFunc")
	}
	m.registry.MustRegister(&queueCollector{
		stats:   f,
		timeout: queueStatsTimeout,
		jobs: prometheus.NewDesc("photogen_jobs",
			"Jobs in the River queue, by state, read at scrape time.",
			[]string{"state"}, nil),
		oldest: prometheus.NewDesc("photogen_queue_oldest_available_seconds",
			"How long the oldest available River job has waited, read at scrape time; 0 when none waits.",
			nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "photogen_queue_stats_errors_total",
			Help: "Scrapes at which reading the River queue statistics failed.",
		}),
	})
}

// queueCollector is the prometheus.Collector behind RegisterQueue. It owns
// its error counter and collects it after calling stats, so a failure shows
// in the same scrape.
type queueCollector struct {
	stats   QueueStatsFunc
	timeout time.Duration
	jobs    *prometheus.Desc
	oldest  *prometheus.Desc
	errors  prometheus.Counter
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.oldest
	c.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	// Collect has no context of its own: the scrape's request context does not
	// reach collectors, so the timeout is the only bound.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()

	byState, oldest, err := c.stats(ctx)
	if err != nil {
		c.errors.Inc()
		c.errors.Collect(ch)
		return
	}
	c.errors.Collect(ch)

	for _, s := range rivertype.JobStates() {
		if _, ok := byState[string(s)]; !ok {
			ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, 0, string(s))
		}
	}
	for state, n := range byState {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest.Seconds())
}
