// This file holds a prediction's states, as the provider reports them and as the
// ledger keeps them.

package generation

// PredictionStatus mirrors the provider's status values, plus the ledger's own intent
// states.
type PredictionStatus string

// The prediction states. Creating is an intent written before the create call;
// abandoned an intent proven never created. Starting and processing are in flight; the
// rest are final.
const (
	PredictionCreating  PredictionStatus = "creating"
	PredictionAbandoned PredictionStatus = "abandoned"

	PredictionStarting   PredictionStatus = "starting"
	PredictionProcessing PredictionStatus = "processing"
	PredictionSucceeded  PredictionStatus = "succeeded"
	PredictionFailed     PredictionStatus = "failed"
	PredictionCanceled   PredictionStatus = "canceled"
	PredictionAborted    PredictionStatus = "aborted"
)

// Terminal reports whether a provider's status is final.
func (p PredictionStatus) Terminal() bool {
	return p != PredictionStarting && p != PredictionProcessing && p != PredictionCreating
}
