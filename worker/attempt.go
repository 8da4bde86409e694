// This file is one attempt of a generation job: do what can be done now, then put the
// job to sleep and free the worker slot until a webhook, or the next check, has news.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"photogen/generation"
	"photogen/store"
	"photogen/tracing"
)

// errAttemptOver asks Work to end the attempt while work remains: the job is made
// available again at once (a zero snooze), so that no attempt outgrows its timeout.
var errAttemptOver = errors.New("attempt window over")

// attempt works sub's generation until nothing more can be done now. Each turn starts
// from the database: keep the finished predictions' photos, append them (the capped
// statement), adopt the creates a dead attempt left, check the predictions nothing was
// heard of for too long, and top the window of predictions in flight back up to
// BatchSize, within the photos owed, the budget and the fleet's rate limit. A create
// that comes back (with a synchronous answer, or failing) starts the next turn at once.
// When no create is under way and nothing is left to do, as the transaction that looked
// at the ledger last (under the subscriber's row lock) says, the attempt returns
// ErrAsleep with a snooze (finish).
func (w *GenerateWorker) attempt(ctx context.Context, log *slog.Logger, job *river.Job[generation.GenerateArgs], sub *generation.Subscriber) error {
	budget := w.cfg.budget(sub.TargetPhotos)
	stopCreating := time.Now().Add(w.cfg.attemptWindow())
	tasks := newTasks()
	defer tasks.wait() // never leave a keep or a create call behind
	// How long the last prediction kept took, from its reservation to its end: this
	// subscriber's, or before it has one, the last this process kept (one model for all).
	took := time.Duration(w.lastTook.Load())
	for {
		ledger, err := w.store.LedgerFor(ctx, sub.ID)
		if err != nil {
			return err
		}
		// Each finished prediction is kept in a task of its own, which then starts the
		// prediction that replaces it: a slot is refilled as soon as its photo is stored.
		for _, f := range ledger.ToKeep {
			if tasks.keeping(f.ProviderID) {
				continue
			}
			if d := f.CompletedAt.Sub(f.CreatedAt); d > 0 {
				took = d
				w.lastTook.Store(int64(d))
			}
			tasks.startKeep(f.ProviderID, func(own func(int64)) error {
				if err := w.keep(ctx, log, sub.ID, f); err != nil {
					return err
				}
				if !time.Now().Before(stopCreating) {
					return nil
				}
				return w.refill(ctx, log, sub, budget, own)
			})
		}
		r, err := w.appendSucceeded(ctx, log, sub.ID)
		if err != nil {
			return err
		}
		if r.Status != generation.StatusGenerating {
			w.generationEnded(ctx, log, sub, r)
			return nil
		}
		if reconciled, err := w.reconcileOrphans(ctx, sub, ledger.Intents, tasks); err != nil || reconciled {
			if err != nil {
				return err
			}
			continue
		}
		heard, err := w.checkDue(ctx, log, ledger)
		if err != nil {
			return err
		}
		if heard {
			continue
		}
		want := w.room(ledger, r.Photos, r.TargetPhotos, budget)
		if want == 0 && ledger.Open() == 0 && tasks.n == 0 {
			return &budgetError{budget: budget, failed: ledger.Failed}
		}
		if want > 0 && time.Now().Before(stopCreating) {
			started, wait, err := w.startCreates(ctx, log, sub, budget, want, tasks)
			if err != nil {
				return err
			}
			if started == 0 && ledger.Open() == 0 && tasks.n == 0 {
				if err := w.pause(ctx, wait); err != nil {
					return err
				}
				continue
			}
		}
		if tasks.n > 0 {
			if err := tasks.next(ctx); err != nil {
				return err
			}
			continue
		}
		if w.cfg.Webhooks && ledger.Open() > 0 && time.Now().Before(stopCreating) {
			news, err := w.linger(ctx, sub.ID, lingerUntil(time.Now(), ledger, took))
			if err != nil {
				return err
			}
			if news {
				continue
			}
		}
		sleep, err := w.finish(ctx, job, sub, budget, stopCreating)
		if err != nil || sleep > 0 {
			if err == nil {
				log.DebugContext(ctx, "asleep until the provider has news", "at_most", sleep)
				err = asleep(sleep)
			}
			return err
		}
	}
}

// startCreates reserves up to want intents (as many as the window and the fleet's rate
// limit allow) and starts a create task for each. It returns how many it started and,
// when the fleet's limit gave none, how long until it will.
func (w *GenerateWorker) startCreates(ctx context.Context, log *slog.Logger, sub *generation.Subscriber, budget, want int, tasks *tasks) (int, time.Duration, error) {
	seeds := newSeeds(want)
	for _, seed := range seeds {
		tasks.own(seed)
	}
	intents, wait, err := w.reserve(ctx, sub, seeds, budget)
	for _, seed := range seeds[len(intents):] {
		tasks.disown(seed)
	}
	if err != nil {
		return 0, 0, err
	}
	for _, in := range intents {
		tasks.startCreate(in.Seed, func(own func(int64)) error { return w.create(ctx, log, sub, in, own) })
	}
	return len(intents), wait, nil
}

// refill starts, in the calling task, the one prediction that replaces one just kept,
// if the window, the budget and the fleet's rate limit allow it now; otherwise the
// attempt's next turn will.
func (w *GenerateWorker) refill(ctx context.Context, log *slog.Logger, sub *generation.Subscriber, budget int, own func(int64)) error {
	seed := newSeed()
	own(seed)
	intents, _, err := w.reserve(ctx, sub, []int64{seed}, budget)
	if err != nil || len(intents) == 0 {
		return err
	}
	return w.create(ctx, log, sub, intents[0], own)
}

// reserve writes the intents the window and the fleet's creation limit have room for,
// one per seed, taking a slot of the limit for each in the same transaction.
func (w *GenerateWorker) reserve(ctx context.Context, sub *generation.Subscriber, seeds []int64, budget int) ([]store.Intent, time.Duration, error) {
	limit := store.CreationLimit{PerWindow: w.cfg.PerMinute, Window: time.Minute}
	return w.store.ReserveCreations(ctx, sub.ID, seeds, w.cfg.BatchSize, budget, limit)
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

// room is how many predictions may be created now: the window (BatchSize, no more than
// the photos still owed) less those open, within what the budget has left.
func (w *GenerateWorker) room(l store.Ledger, photos, target, budget int) int {
	want := min(w.cfg.BatchSize, target-photos) - l.Open()
	return max(0, min(want, budget-l.Created-len(l.Intents)))
}

// finish ends the attempt if nothing can be done now, in one transaction: it locks the
// subscriber's row (a wake-up locks it too, see generation.Wake), clears the pending
// news, looks at the ledger once more and, finding nothing to do, returns how long the
// job may sleep: until its next prediction is due for a check. A report recorded before
// the lock is seen here (sleep is 0: one more turn); one recorded after leaves news that
// wakes the job once River has put it to sleep (wakeAsleep). It returns errAttemptOver
// when work remains but the attempt has run long enough, and a sleep of 0 with no error
// when the generation is no longer generating (the next turn sees it).
func (w *GenerateWorker) finish(ctx context.Context, job *river.Job[generation.GenerateArgs], sub *generation.Subscriber, budget int, stopCreating time.Time) (sleep time.Duration, err error) {
	err = w.store.WithTx(ctx, func(tx *store.Store) error {
		locked, err := tx.LockSubscriber(ctx, sub.ID)
		if err != nil || locked.Status != generation.StatusGenerating {
			return err
		}
		ledger, err := tx.LedgerFor(ctx, sub.ID)
		if err != nil {
			return err
		}
		if len(ledger.ToKeep) > 0 || w.room(ledger, len(locked.PhotoURLs), locked.TargetPhotos, budget) > 0 {
			if time.Now().Before(stopCreating) {
				return nil // one more turn
			}
			return errAttemptOver
		}
		if _, err := tx.TakeWake(ctx, sub.ID); err != nil {
			return err
		}
		sleep = w.untilNextCheck(ledger)
		return nil
	})
	return sleep, err
}

// minSleep is the shortest sleep: River makes a job snoozed for no longer than its
// scheduler's interval (5 s) available at once, which would wake it for nothing.
const minSleep = 6 * time.Second

// untilNextCheck is how long until the first prediction in flight is due for a check,
// at least minSleep; with nothing in flight, one check interval.
func (w *GenerateWorker) untilNextCheck(l store.Ledger) time.Duration {
	next := w.cfg.checkEvery()
	for _, p := range l.InFlight {
		next = min(next, time.Until(p.CheckedAt.Add(w.cfg.checkEvery())))
	}
	return max(next, minSleep)
}

// generationEnded logs a generation that left generating, and times a completed one.
func (w *GenerateWorker) generationEnded(ctx context.Context, log *slog.Logger, sub *generation.Subscriber, r store.AppendResult) {
	log.InfoContext(ctx, "generation finished", "status", r.Status, "photos", r.Photos)
	if r.Status == generation.StatusCompleted && r.Appended > 0 && sub.PaidAt != nil {
		w.obs.GenerationCompleted(time.Since(*sub.PaidAt))
	}
}

// lingerFor is how long an attempt with predictions in flight waits for a webhook before
// it goes to sleep, at least. Predictions created together finish together: the first
// webhook wakes the job, and its siblings' webhooks follow within milliseconds. One that
// comes while the attempt runs is seen here at once; one that comes just after the
// attempt has ended must wait until River has put the job to sleep, which its completer
// writes every 250 ms, before it can wake it (generation.Wake, WakeAsleep). Lingering
// about as long saves that wait for the webhooks that follow each other.
const lingerFor = 300 * time.Millisecond

// lingerAtMost bounds a linger. When the next prediction in flight is expected sooner
// than this (it was reserved as long ago as the last one took to finish), the attempt
// waits for it in place: cheaper than a sleep and a wake-up. A slower model's attempt
// sleeps, and holds no worker slot while the model runs.
const lingerAtMost = 2 * time.Second

// lingerPoll is how often a lingering attempt looks for news.
const lingerPoll = 10 * time.Millisecond

// lingerUntil is when a linger that starts at now ends: lingerFor after the next
// prediction in flight is expected to end (reserved at CreatedAt, taking took as the last
// one did) when that is within lingerAtMost; otherwise lingerFor from now.
func lingerUntil(now time.Time, l store.Ledger, took time.Duration) time.Time {
	until := now.Add(lingerFor)
	if took <= 0 {
		return until
	}
	var next time.Time
	for _, p := range l.InFlight {
		if end := p.CreatedAt.Add(took); end.After(now) && (next.IsZero() || end.Before(next)) {
			next = end
		}
	}
	if wait := next.Add(lingerFor); !next.IsZero() && wait.After(until) && !wait.After(now.Add(lingerAtMost)) {
		until = wait
	}
	return until
}

// linger waits until `until` for news of the subscriber's predictions (a webhook's
// wake-up, generation.Wake), and reports whether some came; it takes the news, so that
// the job is not woken again for it after this attempt. It lingers only while this
// process has a worker slot free besides its own: a job waiting for a slot is never
// kept waiting by one that lingers.
func (w *GenerateWorker) linger(ctx context.Context, id uuid.UUID, until time.Time) (bool, error) {
	tick := time.NewTicker(lingerPoll)
	defer tick.Stop()
	for time.Now().Before(until) && int(w.running.Load()) < w.cfg.Concurrency {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
		if news, err := w.store.TakeWake(ctx, id); err != nil || news {
			return news, err
		}
	}
	return false, nil
}
