// This file keeps the photos of finished predictions: downloaded from the provider,
// checked, and stored in our bucket before they count; each kept photo is appended, and
// its replacement reserved, in one transaction.

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

// keepAndRefill is the task of a finished prediction: it keeps its photo, then creates
// the prediction that replaces it, while the attempt still creates.
func (w *GenerateWorker) keepAndRefill(ctx context.Context, a *attemptState, f store.Finished, o owner) error {
	intents, err := w.keep(ctx, a, f, o)
	if err != nil {
		return err
	}
	w.progressed(ctx, a)
	for _, in := range intents {
		if err := w.create(ctx, a, in, o); err != nil {
			return err
		}
	}
	return nil
}

// keep keeps the image of a finished prediction, in a span of its own (the download and
// the storage calls are its children), and returns the intents of its replacement: the
// photo's record, its append (the capped statement) and the replacement's intent are one
// transaction (store.KeepAndReserve). An output gone for good, not an image or too large
// counts as failed (and is replaced). A storage fault that retrying may cure is returned,
// and the prediction stays finished in the ledger for the next turn or attempt.
func (w *GenerateWorker) keep(ctx context.Context, a *attemptState, f store.Finished, o owner) (intents []store.Intent, err error) {
	ctx, span := w.span(ctx, "prediction.keep", tracing.Subscriber(a.sub.ID), tracing.Prediction(f.ProviderID))
	defer func() { tracing.End(span, err) }()
	ours, err := w.keeper.Keep(ctx, f.ProviderID, f.OutputURL)
	if errors.Is(err, photos.ErrGone) || errors.Is(err, photos.ErrNotImage) || errors.Is(err, photos.ErrTooLarge) {
		a.log.WarnContext(ctx, "prediction output unusable", "prediction_id", f.ProviderID, "err", err)
		w.obs.PredictionFinished("failed")
		if err := w.store.DiscardFinished(ctx, f.ProviderID, "output unusable: "+err.Error()); err != nil {
			return nil, err
		}
		o.note(kept(f.ProviderID, nil, true))
		return w.refill(ctx, a, o)
	}
	if err != nil {
		return nil, err
	}
	var seeds []int64
	if a.creating() {
		seeds = newSeeds(1)
		o.own(seeds[0])
	}
	k, err := w.store.KeepAndReserve(ctx, a.sub.ID, f.ProviderID, ours, seeds, a.window, w.creationLimit())
	for _, seed := range seeds[len(k.Intents):] {
		o.disown(seed)
	}
	if err != nil {
		return nil, err
	}
	o.note(kept(f.ProviderID, &k.Append, false))
	o.note(reserved(k.Intents))
	w.obs.PredictionFinished("succeeded")
	w.obs.PhotoKept(time.Since(f.CompletedAt))
	span.SetAttributes(tracing.AppendedKey.Int(k.Append.Appended), tracing.PhotosKey.Int(k.Append.Photos))
	w.appended(ctx, a.log, k.Append)
	return k.Intents, nil
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
	w.appended(ctx, log, r)
	return r, nil
}

// appended counts and logs the photos an append added.
func (w *GenerateWorker) appended(ctx context.Context, log *slog.Logger, r store.AppendResult) {
	if r.Appended > 0 {
		w.obs.PhotosAppended(r.Appended)
		log.InfoContext(ctx, "photos appended", "appended", r.Appended, "photos", r.Photos, "target", r.TargetPhotos)
	}
}

// generationEnded logs a generation that left generating, and times a completed one.
func (w *GenerateWorker) generationEnded(ctx context.Context, log *slog.Logger, sub *generation.Subscriber, r store.AppendResult) {
	log.InfoContext(ctx, "generation finished", "status", r.Status, "photos", r.Photos)
	if r.Status == generation.StatusCompleted && r.Appended > 0 && sub.PaidAt != nil {
		w.obs.GenerationCompleted(time.Since(*sub.PaidAt))
	}
}
