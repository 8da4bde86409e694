// This file records the flow of a generation: the time from payment to the last photo,
// the time from a prediction's end to its photo in our bucket, the predictions in
// flight (read from the database at scrape time), the Replicate webhooks received and the
// checks of predictions whose webhook is late.

package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func (m *Metrics) initGeneration() {
	m.generationDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "photogen_generation_duration_seconds",
		Help: "Time from a subscriber's payment to their last photo stored.",
		// 1 s to an hour: a fast model makes 30 photos in a few seconds.
		Buckets: []float64{1, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600, 1800, 3600},
	})
	m.storeDelay = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "photogen_photo_store_delay_seconds",
		Help:    "Time from a prediction's end at the provider to its photo stored in photogen's bucket.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
	})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_replicate_webhooks_total",
		Help: "Replicate webhook deliveries received, by outcome (recorded, duplicate, unknown, invalid).",
	}, []string{"outcome"})
	for _, o := range [...]string{"recorded", "duplicate", "unknown", "invalid"} {
		m.webhooks.WithLabelValues(o)
	}
	m.lateChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_webhook_late_checks_total",
		Help: "Checks (one GET) of predictions late for the model's pace with webhooks on, by outcome: ended (the webhook was lost) or running.",
	}, []string{"outcome"})
	for _, o := range [...]string{"ended", "running"} {
		m.lateChecks.WithLabelValues(o)
	}
	m.handedBack = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "photogen_jobs_handed_back_total",
		Help: "Generation jobs handed back by their own worker after River dropped their attempt's outcome (PostgreSQL unreachable), instead of waiting for the rescuer.",
	})
	m.delays = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_generation_delays_total",
		Help: "Generations that began to wait out an outage, by reason: provider_unavailable or photo_store_unavailable.",
	}, []string{"reason"})
	for _, r := range delayReasons {
		m.delays.WithLabelValues(r)
	}
	m.registry.MustRegister(m.generationDuration, m.storeDelay, m.webhooks, m.lateChecks, m.handedBack, m.delays)
}

// delayReasons are the reasons a generation waits out an outage (generation.DelayReason).
var delayReasons = [...]string{"provider_unavailable", "photo_store_unavailable"}

// GenerationDelayed counts a generation that began to wait out an outage, in
// photogen_generation_delays_total{reason}; reason must come from code.
func (m *Metrics) GenerationDelayed(reason string) { m.delays.WithLabelValues(reason).Inc() }

// DelayedFunc reports how many generations wait out an outage now, fleet-wide, by
// reason (a database read). It must return when ctx is done.
type DelayedFunc func(ctx context.Context) (map[string]int, error)

// RegisterDelayed adds photogen_generations_delayed{reason}, read with f at each scrape
// (with the queue statistics' timeout), every reason reported (0 when f leaves it out); a
// failed read leaves the gauge out of that scrape.
func (m *Metrics) RegisterDelayed(f DelayedFunc) {
	desc := prometheus.NewDesc("photogen_generations_delayed",
		"Generations waiting out an outage of the provider or the photo store, by reason, fleet-wide, read at scrape time.",
		[]string{"reason"}, nil)
	m.registry.MustRegister(collectorFunc{desc: desc, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), queueStatsTimeout)
		defer cancel()
		byReason, err := f(ctx)
		if err != nil {
			return
		}
		for _, r := range delayReasons {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(byReason[r]), r)
		}
	}})
}

// JobsHandedBack adds n to photogen_jobs_handed_back_total.
func (m *Metrics) JobsHandedBack(n int) { m.handedBack.Add(float64(n)) }

// LateWebhookChecked counts one late-webhook check in
// photogen_webhook_late_checks_total{outcome}: ended when the prediction had ended.
func (m *Metrics) LateWebhookChecked(ended bool) {
	outcome := "running"
	if ended {
		outcome = "ended"
	}
	m.lateChecks.WithLabelValues(outcome).Inc()
}

// GenerationCompleted observes d, the time from payment to the last photo, in
// photogen_generation_duration_seconds.
func (m *Metrics) GenerationCompleted(d time.Duration) { m.generationDuration.Observe(d.Seconds()) }

// PhotoKept observes delay, from a prediction's end to its photo stored, in
// photogen_photo_store_delay_seconds.
func (m *Metrics) PhotoKept(delay time.Duration) { m.storeDelay.Observe(delay.Seconds()) }

// WebhookReceived counts one Replicate webhook delivery in
// photogen_replicate_webhooks_total{outcome}; outcome must come from code.
func (m *Metrics) WebhookReceived(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }

// InFlightFunc reports how many predictions are in flight, fleet-wide, at the moment it
// is called (a database read). It must return when ctx is done.
type InFlightFunc func(ctx context.Context) (int, error)

// RegisterInFlight adds photogen_predictions_in_flight, read with f at each scrape
// (with the queue statistics' timeout); a failed read leaves the gauge out of that scrape.
func (m *Metrics) RegisterInFlight(f InFlightFunc) {
	desc := prometheus.NewDesc("photogen_predictions_in_flight",
		"Predictions created and not yet final or kept, fleet-wide, read at scrape time.", nil, nil)
	m.registry.MustRegister(collectorFunc{desc: desc, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), queueStatsTimeout)
		defer cancel()
		if n, err := f(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n))
		}
	}})
}

// collectorFunc is a one-metric prometheus.Collector.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
