// This file is how a generation waits out an outage of what it stands on: the provider
// (5xx, timeouts, refused connections, for creates, reads and the downloads of outputs)
// or the photo store (a full or read-only disk, S3 errors and timeouts). The attempt
// that meets one after its own tries records the delay (the status shows it) and
// snoozes the job for delayRetry, so that work resumes within a few seconds of the
// outage's end: no attempt is spent and no retry backoff grows. The first call that
// works again clears the delay; a delay longer than Config.OutageLimit fails the
// generation.

package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"photogen/generation"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
)

// delayRetry is how long a delayed generation's job sleeps before it tries again. River
// makes a job snoozed for less than its scheduler's interval (5 s) available at once with
// its time set ahead, so the next fetch poll (1 s) after that time takes it: the next
// attempt starts 2 to 3 s after this one ended, and an attempt's own tries last about 3 s.
const delayRetry = 2 * time.Second

// outageOf names the outage err says the attempt met, or "" when err is no outage. The
// photo store's failure is named first: a photo downloaded but not stored says the
// provider works.
func outageOf(err error) generation.DelayReason {
	switch {
	case errors.Is(err, photos.ErrStoreFailed):
		return generation.DelayPhotoStore
	case errors.Is(err, photos.ErrDownloadFailed), provider.Unavailable(err):
		return generation.DelayProvider
	}
	return ""
}

// outageWords says what each outage was, in the words of a failed generation's reason.
var outageWords = map[generation.DelayReason]string{
	generation.DelayProvider:   "the image provider was unavailable",
	generation.DelayPhotoStore: "the photo store was unavailable",
}

// delayed records that the generation waits out an outage for reason (err is what the
// attempt met) and snoozes its job for delayRetry; once the delay has lasted
// OutageLimit, it fails the generation instead.
func (w *GenerateWorker) delayed(ctx context.Context, log *slog.Logger, id uuid.UUID, reason generation.DelayReason, err error) error {
	waited, started, derr := w.store.DelayGeneration(ctx, id, reason)
	switch {
	case errors.Is(derr, store.ErrNotFound):
		return river.JobSnooze(0) // no longer generating: the next attempt sees why
	case store.Unreachable(derr), store.Contended(derr):
		return river.JobSnooze(time.Second) // the database too: as its own blink (generate.go)
	case derr != nil:
		return errors.Join(err, derr)
	case waited >= w.cfg.OutageLimit:
		return w.fail(ctx, log, id, fmt.Sprintf("%s for %s (OUTAGE_LIMIT): %v", outageWords[reason], waited.Round(time.Second), err), err)
	case started:
		w.obs.GenerationDelayed(string(reason))
		log.WarnContext(ctx, "generation delayed by an outage; trying again every few seconds",
			"reason", reason, "err", err, "fails_after", w.cfg.OutageLimit)
	default:
		log.DebugContext(ctx, "generation still delayed", "reason", reason, "waited", waited, "err", err)
	}
	return river.JobSnooze(delayRetry)
}

// progressed tells the attempt that a call to the provider or the photo store worked: a
// delay the generation had when the attempt started ends, once (tasks call it at once).
func (w *GenerateWorker) progressed(ctx context.Context, a *attemptState) {
	if !a.delayed.CompareAndSwap(true, false) {
		return
	}
	if _, err := w.store.ClearDelay(ctx, a.sub.ID); err != nil {
		a.delayed.Store(true) // the next call that works tries again
		a.log.WarnContext(ctx, "clear the generation's delay", "err", err)
		return
	}
	a.log.InfoContext(ctx, "generation no longer delayed", "was", a.sub.Delay.Reason,
		"for", time.Since(a.sub.Delay.Since).Round(time.Millisecond))
}
