// This file declares the image provider as the generation worker uses it: the one seam
// photogen fakes in tests (provider.Replicate in production, pointed at
// internal/fakereplicate in tests).

package worker

import (
	"context"
	"photogen/generation"
	"time"
)

// Provider creates, finds, reads and cancels predictions.
type Provider interface {
	// Create starts one prediction for prompt, with seed in its input so that Find can
	// recognise it. It returns as soon as the provider has accepted it; the prediction
	// is then billable.
	Create(ctx context.Context, prompt string, seed int64) (generation.Prediction, error)
	// Find looks among the predictions created since for the one with seed and prompt,
	// for a create whose answer was lost. found is false when there is none.
	Find(ctx context.Context, seed int64, prompt string, since time.Time) (p generation.Prediction, found bool, err error)
	// Get returns the prediction's current state.
	Get(ctx context.Context, id string) (generation.Prediction, error)
	// Cancel asks the provider to stop the prediction; canceling a finished one is a no-op.
	Cancel(ctx context.Context, id string) error
}
