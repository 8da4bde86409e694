// This file holds the price photogen pays per prediction, which turns the
// count of created predictions into spend.

package metrics

import (
	"fmt"
	"math"
	"sync/atomic"
)

// DefaultPredictionCostUSD is the cost of one prediction, in US dollars, that
// a new Metrics adds to photogen_prediction_spend_usd_total until
// SetPredictionCost changes it.
const DefaultPredictionCostUSD = 0.003

// predictionCost is a float64 in US dollars that can be read and set
// concurrently.
type predictionCost struct {
	bits atomic.Uint64
}

func (c *predictionCost) load() float64 {
	return math.Float64frombits(c.bits.Load())
}

func (c *predictionCost) store(usd float64) {
	c.bits.Store(math.Float64bits(usd))
}

// SetPredictionCost sets the cost of one prediction, in US dollars, that each
// later PredictionCreated adds to photogen_prediction_spend_usd_total; spend
// already counted is not changed. It is meant for start-up, from config.
// usd must be finite and not negative (a counter only grows): SetPredictionCost
// panics otherwise, as a configuration error.
func (m *Metrics) SetPredictionCost(usd float64) {
	if usd < 0 || math.IsNaN(usd) || math.IsInf(usd, 0) {
		panic(fmt.Sprintf("metrics: prediction cost must be a finite, non-negative number of dollars, got %v", usd))
	}
	m.predictionCost.store(usd)
}
