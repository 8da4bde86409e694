// Package metrics holds photogen's Prometheus collectors: HTTP requests in
// the api, job runs, predictions and provider calls in the worker, the River
// queue, and the api's status cache. Every collector lives on a registry the
// package creates; nothing is registered on prometheus.DefaultRegisterer.
//
// This file builds that registry and serves it; each other file holds one
// group of collectors and the methods that feed it.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every photogen collector, registered on its own registry.
// Its methods are safe for concurrent use. Build one with New per process and
// pass it to the code that records; the zero value is not usable.
type Metrics struct {
	registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	http         httpSeriesCache // the two above by labels, as requests used them

	jobRuns     *prometheus.CounterVec
	jobDuration *prometheus.HistogramVec

	predictionsCreated  prometheus.Counter
	predictionSpend     prometheus.Counter
	predictionsFinished *prometheus.CounterVec
	predictionCost      predictionCost
	photosAppended      prometheus.Counter

	providerDuration *prometheus.HistogramVec

	generationDuration prometheus.Histogram
	storeDelay         prometheus.Histogram
	webhooks           *prometheus.CounterVec
	lateChecks         *prometheus.CounterVec
	handedBack         prometheus.Counter
	delays             *prometheus.CounterVec

	statusCache statusCache
}

// New returns a Metrics whose registry holds the Go runtime and process
// collectors and every photogen collector, with the label values known in
// advance (prediction statuses, provider ops and results) already present at
// zero. The queue collector is added separately by RegisterQueue. The cost
// per prediction starts at DefaultPredictionCostUSD.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.initHTTP()
	m.initJobs()
	m.initPredictions()
	m.initProvider()
	m.initGeneration()
	m.initStatusCache()
	return m
}

// Registry returns the registry that holds every collector of m, for callers
// that register their own collectors next to photogen's or gather in tests.
func (m *Metrics) Registry() *prometheus.Registry {
	return m.registry
}

// Handler returns the http.Handler that serves m's registry in the Prometheus
// exposition format. A collector that fails does not fail the scrape: the
// other metrics are still served and the failure is counted in
// promhttp_metric_handler_errors_total.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry,
	})
}
