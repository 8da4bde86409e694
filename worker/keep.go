// This file keeps the photos of finished predictions: downloaded from the provider,
// checked, and stored in our bucket before they count.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"photogen/photos"
	"photogen/store"
	"photogen/tracing"

	"github.com/google/uuid"
)

// keep keeps the image of a finished prediction, in a span of its own (the download and
// the storage calls are its children): an output gone for good, not an image or too
// large counts as failed (and is replaced). A storage fault that retrying may cure is
// returned, and the prediction stays finished in the ledger for the next turn or
// attempt.
func (w *GenerateWorker) keep(ctx context.Context, log *slog.Logger, sub uuid.UUID, f store.Finished) (err error) {
	ctx, span := w.span(ctx, "prediction.keep", tracing.Subscriber(sub), tracing.Prediction(f.ProviderID))
	defer func() { tracing.End(span, err) }()
	ours, err := w.keeper.Keep(ctx, f.ProviderID, f.OutputURL)
	if errors.Is(err, photos.ErrGone) || errors.Is(err, photos.ErrNotImage) || errors.Is(err, photos.ErrTooLarge) {
		log.WarnContext(ctx, "prediction output unusable", "prediction_id", f.ProviderID, "err", err)
		w.obs.PredictionFinished("failed")
		return w.store.DiscardFinished(ctx, f.ProviderID, "output unusable: "+err.Error())
	}
	if err != nil {
		return err
	}
	if err := w.store.KeepPrediction(ctx, f.ProviderID, ours); err != nil {
		return err
	}
	w.obs.PredictionFinished("succeeded")
	w.obs.PhotoKept(time.Since(f.CompletedAt))
	return nil
}
