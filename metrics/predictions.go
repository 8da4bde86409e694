// This file records the worker's Replicate predictions: how many were
// created, what they cost, how they ended, and the photos they produced.

package metrics

import "github.com/prometheus/client_golang/prometheus"

func (m *Metrics) initPredictions() {
	m.predictionsCreated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "photogen_predictions_created_total",
		Help: "Predictions created at the image provider.",
	})
	m.predictionSpend = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "photogen_prediction_spend_usd_total",
		Help: "Estimated spend on created predictions, in US dollars.",
	})
	m.predictionsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_predictions_finished_total",
		Help: "Predictions that reached a final status, by status.",
	}, []string{"status"})
	m.photosAppended = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "photogen_photos_appended_total",
		Help: "Photos appended to generations from prediction outputs.",
	})
	for _, s := range [...]string{"succeeded", "failed", "canceled", "aborted"} {
		m.predictionsFinished.WithLabelValues(s)
	}
	m.predictionCost.store(DefaultPredictionCostUSD)
	m.registry.MustRegister(m.predictionsCreated, m.predictionSpend, m.predictionsFinished, m.photosAppended)
}

// PredictionCreated records one prediction created at the provider: it adds
// one to photogen_predictions_created_total and the current prediction cost
// (see SetPredictionCost) to photogen_prediction_spend_usd_total.
func (m *Metrics) PredictionCreated() {
	m.predictionsCreated.Inc()
	m.predictionSpend.Add(m.predictionCost.load())
}

// PredictionFinished records one prediction that reached the final status
// status in photogen_predictions_finished_total{status}. The statuses
// "succeeded", "failed", "canceled" and "aborted" have series from New on;
// another status is recorded as given, so it must come from the provider's
// fixed set, never from free text.
func (m *Metrics) PredictionFinished(status string) {
	m.predictionsFinished.WithLabelValues(status).Inc()
}

// PhotosAppended adds n to photogen_photos_appended_total. An n of zero or
// less records nothing.
func (m *Metrics) PhotosAppended(n int) {
	if n <= 0 {
		return
	}
	m.photosAppended.Add(float64(n))
}
