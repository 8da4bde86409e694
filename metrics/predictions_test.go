package metrics_test

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

func TestPredictionCreatedAddsSpend(t *testing.T) {
	t.Parallel()
	m := metrics.New()

	for range 3 {
		m.PredictionCreated()
	}

	g := m.Registry()
	require.InDelta(t, 3, sample(t, g, "photogen_predictions_created_total", nil).GetCounter().GetValue(), 0)
	require.InDelta(t, 0.009, sample(t, g, "photogen_prediction_spend_usd_total", nil).GetCounter().GetValue(), 1e-12)

	m.SetPredictionCost(0.05)
	m.PredictionCreated()
	m.SetPredictionCost(0)
	m.PredictionCreated()

	require.InDelta(t, 5, sample(t, g, "photogen_predictions_created_total", nil).GetCounter().GetValue(), 0)
	require.InDelta(t, 0.059, sample(t, g, "photogen_prediction_spend_usd_total", nil).GetCounter().GetValue(), 1e-12)
}

func TestSetPredictionCostRejectsInvalid(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	for _, usd := range []float64{-0.001, math.NaN(), math.Inf(1)} {
		require.Panics(t, func() { m.SetPredictionCost(usd) }, "%v", usd)
	}
	m.PredictionCreated()
	require.InDelta(t, metrics.DefaultPredictionCostUSD,
		sample(t, m.Registry(), "photogen_prediction_spend_usd_total", nil).GetCounter().GetValue(), 1e-12)
}

func TestPredictionFinished(t *testing.T) {
	t.Parallel()
	m := metrics.New()

	m.PredictionFinished("succeeded")
	m.PredictionFinished("succeeded")
	m.PredictionFinished("failed")

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP photogen_predictions_finished_total Predictions that reached a final status, by status.
# TYPE photogen_predictions_finished_total counter
photogen_predictions_finished_total{status="aborted"} 0
photogen_predictions_finished_total{status="canceled"} 0
photogen_predictions_finished_total{status="failed"} 1
photogen_predictions_finished_total{status="succeeded"} 2
`), "photogen_predictions_finished_total"))
}

func TestPhotosAppended(t *testing.T) {
	t.Parallel()
	m := metrics.New()

	m.PhotosAppended(4)
	m.PhotosAppended(0)
	m.PhotosAppended(-2)
	m.PhotosAppended(1)

	require.InDelta(t, 5, sample(t, m.Registry(), "photogen_photos_appended_total", nil).GetCounter().GetValue(), 0)
}
