// This file keeps the photos of finished predictions: downloaded from the provider,
// checked, and stored in our bucket before they count.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"photogen/generation"
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

// appendSucceeded moves the kept photos from the ledger to the subscriber (the capped
// statement), in a span of its own.
func (w *GenerateWorker) appendSucceeded(ctx context.Context, log *slog.Logger, id uuid.UUID) (r store.AppendResult, err error) {
	ctx, span := w.span(ctx, "photos.append", tracing.Subscriber(id))
	defer func() {
		span.SetAttributes(tracing.AppendedKey.Int(r.Appended), tracing.PhotosKey.Int(r.Photos))
		tracing.End(span, err)
	}()
	if r, err = w.store.AppendSucceeded(ctx, id); err != nil {
		return r, err
	}
	if r.Appended > 0 {
		w.obs.PhotosAppended(r.Appended)
		log.InfoContext(ctx, "photos appended", "appended", r.Appended, "photos", r.Photos, "target", r.TargetPhotos)
	}
	return r, nil
}

// generationEnded logs a generation that left generating, and times a completed one.
func (w *GenerateWorker) generationEnded(ctx context.Context, log *slog.Logger, sub *generation.Subscriber, r store.AppendResult) {
	log.InfoContext(ctx, "generation finished", "status", r.Status, "photos", r.Photos)
	if r.Status == generation.StatusCompleted && r.Appended > 0 && sub.PaidAt != nil {
		w.obs.GenerationCompleted(time.Since(*sub.PaidAt))
	}
}
