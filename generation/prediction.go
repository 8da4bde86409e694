// This file holds a prediction's states, as the provider reports them and as the
// ledger keeps them.

package generation

// PredictionStatus mirrors the provider's status values, plus the ledger's own intent
// states.
type PredictionStatus string

// The prediction states. Creating is an intent written before the create call;
// abandoned an intent proven never created. Starting and processing are in flight at
// the provider; finished is kept next; the rest are final.
const (
	PredictionCreating  PredictionStatus = "creating"
	PredictionAbandoned PredictionStatus = "abandoned"

	PredictionStarting   PredictionStatus = "starting"
	PredictionProcessing PredictionStatus = "processing"
	// PredictionFinished is the ledger's own: succeeded at the provider, its image not
	// yet kept in our bucket. It counts as in flight until the worker keeps it.
	PredictionFinished  PredictionStatus = "finished"
	PredictionSucceeded PredictionStatus = "succeeded"
	PredictionFailed    PredictionStatus = "failed"
	PredictionCanceled  PredictionStatus = "canceled"
	PredictionAborted   PredictionStatus = "aborted"
)

// Terminal reports whether a provider's status is final.
func (p PredictionStatus) Terminal() bool {
	return p != PredictionStarting && p != PredictionProcessing && p != PredictionCreating
}

// Prediction is a provider's prediction as photogen needs it.
type Prediction struct {
	ID         string
	Status     PredictionStatus
	OutputURLs []string // the images, when Status is succeeded
	Error      string   // the provider's reason, when Status is failed
	// Seed and Prompt are from the prediction's input, when it tells them: they match a
	// report that arrives before the create's own answer is recorded to its intent.
	Seed   int64
	Prompt string
}

// Ledger returns the ledger's status for what the provider reported, with the URL to
// keep the image from (a success) or the reason (a failure). A success without an image
// (the provider's safety filter can drop it) is a failure, replaced like any other.
func (p Prediction) Ledger() (status PredictionStatus, outputURL, reason string) {
	switch p.Status {
	case PredictionStarting, PredictionProcessing:
		return p.Status, "", ""
	case PredictionSucceeded:
		if len(p.OutputURLs) == 0 {
			return PredictionFailed, "", "succeeded without an image"
		}
		return PredictionFinished, p.OutputURLs[0], ""
	case PredictionFailed, PredictionCanceled, PredictionAborted:
		reason = p.Error
		if reason == "" {
			reason = "prediction " + string(p.Status)
		}
		return p.Status, "", reason
	}
	return PredictionFailed, "", "unknown status " + string(p.Status)
}
