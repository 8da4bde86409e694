// This file is how a generation job goes to sleep between attempts: the locked last look
// at the ledger (finish) and how long the sleep lasts.

package worker

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"photogen/generation"
	"photogen/store"
)

// ErrAsleep is joined to the snooze a generation job returns when its attempt ended
// with nothing to do until the provider has news: it sleeps until woken (a webhook) or
// until its next prediction is due for a check. It is the job's normal rest, not a
// failure; River gives the attempt back.
var ErrAsleep = errors.New("waiting for the provider")

// asleep is what Work returns for a job to sleep for d.
func asleep(d time.Duration) error { return errors.Join(ErrAsleep, river.JobSnooze(d)) }

// finish ends the attempt if nothing can be done now, in one transaction: it locks the
// subscriber's row (a wake-up locks it too, see generation.Wake), clears the pending
// news, looks at the ledger once more and, finding nothing to do, returns how long the
// job may sleep: until its next prediction is due for a check. A report recorded before
// the lock is seen here (sleep is 0: one more turn); one recorded after leaves news that
// wakes the job once River has put it to sleep (wakeAsleep). It returns errAttemptOver
// when work remains but the attempt has run long enough, and a sleep of 0 with no error
// when the generation is no longer generating (the next turn sees it). The ledger it
// reads becomes the attempt's copy (fresh), for the next turn.
func (w *GenerateWorker) finish(ctx context.Context, a *attemptState) (sleep time.Duration, err error) {
	a.fresh = false
	err = w.store.WithTx(ctx, func(tx *store.Store) error {
		locked, err := tx.LockSubscriber(ctx, a.sub.ID)
		if err != nil || locked.Status != generation.StatusGenerating {
			return err
		}
		ledger, err := tx.LedgerFor(ctx, a.sub.ID)
		if err != nil {
			return err
		}
		a.ledger, a.fresh = ledger, true
		if len(ledger.ToKeep) > 0 || ledger.Room(a.window) > 0 {
			if a.creating() {
				return nil // one more turn
			}
			return errAttemptOver
		}
		if _, err := tx.TakeWake(ctx, a.sub.ID); err != nil {
			return err
		}
		sleep = w.untilNextCheck(ctx, ledger)
		return nil
	})
	return sleep, err
}

// minSleep is the shortest sleep: River makes a job snoozed for no longer than its
// scheduler's interval (5 s) available at once, which would wake it for nothing.
const minSleep = 6 * time.Second

// untilNextCheck is how long until the first prediction in flight is due for a check,
// at least minSleep; with nothing in flight, one check interval.
func (w *GenerateWorker) untilNextCheck(ctx context.Context, l store.Ledger) time.Duration {
	return max(time.Until(w.nextCheckAt(ctx, l)), minSleep)
}

// nextCheckAt is when the first prediction in flight is due for a check; with nothing
// in flight, one check interval from now.
func (w *GenerateWorker) nextCheckAt(ctx context.Context, l store.Ledger) time.Time {
	after := w.checkAfter(ctx)
	next := time.Now().Add(after)
	for _, p := range l.InFlight {
		if at := p.CheckedAt.Add(after); at.Before(next) {
			next = at
		}
	}
	return next
}
