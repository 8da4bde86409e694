package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"photogen/store"
)

// Provider is the image provider, the one seam photogen fakes in tests: the production
// implementation is Replicate (replicate.go) and tests point it at internal/fakereplicate.
type Provider interface {
	// Create starts one prediction for prompt, with seed in its input so that Find can
	// recognise it. It returns as soon as the provider has accepted it; the prediction
	// is then billable.
	Create(ctx context.Context, prompt string, seed int64) (Prediction, error)
	// Find looks among the predictions created since for the one with seed and prompt,
	// for a create whose answer was lost. found is false when there is none.
	Find(ctx context.Context, seed int64, prompt string, since time.Time) (p Prediction, found bool, err error)
	// Get returns the prediction's current state.
	Get(ctx context.Context, id string) (Prediction, error)
	// Cancel asks the provider to stop the prediction; canceling a finished one is a no-op.
	Cancel(ctx context.Context, id string) error
}

// Prediction is what photogen needs of a provider's prediction.
type Prediction struct {
	ID         string
	Status     store.PredictionStatus
	OutputURLs []string // the images, when Status is succeeded
	Error      string   // the provider's reason, when Status is failed
}

// ProviderError is a refusal from the provider's API, with its HTTP status.
type ProviderError struct {
	Status     int
	RetryAfter time.Duration // from a 429's Retry-After header, or zero
	Message    string
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("provider answered %d: %s", e.Status, e.Message)
}

// Temporary reports whether trying the same call later may succeed: throttling, the
// provider's own faults and request timeouts. Other 4xx (bad token, no credit, invalid
// input) need a person.
func (e *ProviderError) Temporary() bool {
	return e.Status == 429 || e.Status == 408 || e.Status == 409 || e.Status >= 500
}

// rateLimited returns how long to wait when err is a provider 429.
func rateLimited(err error) (time.Duration, bool) {
	var pe *ProviderError
	if errors.As(err, &pe) && pe.Status == 429 {
		if pe.RetryAfter <= 0 {
			return 10 * time.Second, true
		}
		return pe.RetryAfter, true
	}
	return 0, false
}

// permanent reports whether err is a provider refusal that retrying will not cure.
func permanent(err error) bool {
	var pe *ProviderError
	return errors.As(err, &pe) && !pe.Temporary()
}
