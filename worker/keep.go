// This file keeps the photos of finished predictions: downloaded from the provider,
// checked, and stored in our bucket before they count; each kept photo is appended, and
// its replacement reserved, in one transaction.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"photogen/generation"
	"photogen/photos"
	"photogen/store"
	"photogen/tracing"

	"github.com/google/uuid"
)

// keepBatch is the task of the finished predictions an attempt found together: each
// photo is downloaded, checked and stored at once (storeAll), then the photos stored are
// recorded, appended in one statement and their replacements reserved, all in one
// transaction (store.KeepAndReserve), so that photos ready together cost one transaction
// and one notice to the pages. The replacements' intents are handed to the attempt,
// which starts their creates (taskDone.creates). An output gone for good, not an image
// or too large counts as failed (and is replaced). A storage fault that retrying may cure
// is returned once the others are kept: its prediction stays finished in the ledger for
// the next turn or attempt.
func (w *GenerateWorker) keepBatch(ctx context.Context, a *attemptState, batch []store.Finished, t *taskOwner) error {
	stored, unusable, failed := w.storeAll(ctx, a, batch)
	for _, u := range unusable {
		if err := w.store.DiscardFinished(ctx, u.ProviderID, "output unusable: "+u.err.Error()); err != nil {
			return err
		}
		t.note(kept(u.ProviderID, nil, true))
	}
	if len(stored)+len(unusable) > 0 {
		w.progressed(ctx, a)
	}
	var seeds []int64
	if a.creating() {
		seeds = newSeeds(len(stored) + len(unusable))
		for _, seed := range seeds {
			t.own(seed)
		}
	}
	k, err := w.appendKept(ctx, a, stored, seeds)
	for _, seed := range seeds[len(k.Intents):] {
		t.disown(seed)
	}
	if err != nil {
		return err
	}
	for _, f := range batch {
		if slices.ContainsFunc(stored, func(p store.Photo) bool { return p.ProviderID == f.ProviderID }) {
			t.note(kept(f.ProviderID, &k.Append, false))
			w.obs.PredictionFinished("succeeded")
			w.obs.PhotoKept(time.Since(f.CompletedAt))
		}
	}
	t.note(reserved(k.Intents))
	t.creates = k.Intents
	return failed
}

// unusableOutput is a finished prediction whose output cannot be kept, and why.
type unusableOutput struct {
	store.Finished
	err error
}

// storeAll downloads, checks and stores the photos of batch, at once, each in a span of
// its own (the download and the storage calls are its children). It returns the photos
// stored, the predictions whose output is unusable, and the first storage fault.
func (w *GenerateWorker) storeAll(ctx context.Context, a *attemptState, batch []store.Finished) (stored []store.Photo, unusable []unusableOutput, failed error) {
	urls, errs := make([]string, len(batch)), make([]error, len(batch))
	var wg sync.WaitGroup
	for i, f := range batch {
		wg.Go(func() {
			ctx, span := w.span(ctx, "prediction.keep", tracing.Subscriber(a.sub.ID), tracing.Prediction(f.ProviderID))
			urls[i], errs[i] = w.keeper.Keep(ctx, f.ProviderID, f.OutputURL)
			tracing.End(span, errs[i])
		})
	}
	wg.Wait()
	for i, f := range batch {
		switch err := errs[i]; {
		case err == nil:
			stored = append(stored, store.Photo{ProviderID: f.ProviderID, URL: urls[i]})
		case errors.Is(err, photos.ErrGone) || errors.Is(err, photos.ErrNotImage) || errors.Is(err, photos.ErrTooLarge):
			a.log.WarnContext(ctx, "prediction output unusable", "prediction_id", f.ProviderID, "err", err)
			w.obs.PredictionFinished("failed")
			unusable = append(unusable, unusableOutput{f, err})
		case failed == nil:
			failed = err
		}
	}
	return stored, unusable, failed
}

// appendKept records the photos stored, appends them and reserves the replacements, in
// one transaction and a span of its own; with none stored, it only reserves.
func (w *GenerateWorker) appendKept(ctx context.Context, a *attemptState, stored []store.Photo, seeds []int64) (k store.Kept, err error) {
	if len(stored) == 0 {
		if len(seeds) == 0 {
			return store.Kept{}, nil
		}
		k.Intents, _, err = w.store.ReserveCreations(ctx, a.sub.ID, seeds, a.window, w.creationLimit())
		return k, err
	}
	ctx, span := w.span(ctx, "photos.append", tracing.Subscriber(a.sub.ID))
	defer func() {
		span.SetAttributes(tracing.AppendedKey.Int(k.Append.Appended), tracing.PhotosKey.Int(k.Append.Photos))
		tracing.End(span, err)
	}()
	if k, err = w.store.KeepAndReserve(ctx, a.sub.ID, stored, seeds, a.window, w.creationLimit()); err != nil {
		return k, err
	}
	w.appended(ctx, a.log, k.Append)
	return k, nil
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
