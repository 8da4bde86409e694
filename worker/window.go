// This file is the window of predictions in flight and the path by which an attempt
// reserves the predictions that fill it (reserve): the attempt's own creates and the
// retry of a refused create go through it. The replacements of kept photos are reserved
// by the same rule (store.Ledger.Room, under the row lock) in the keep's own transaction
// (keepBatch).

package worker

import (
	"context"
	"time"

	"photogen/store"
)

// owner takes and gives back the seeds a create works on, so that the attempt never
// mistakes a fresh intent for an orphan (see tasks): the attempt's tasks for the creates
// it starts, a task's own for those it starts itself.
type owner interface {
	own(seed int64)
	disown(seed int64)
	note(c ledgerChange) // a change made to the ledger (see ledger.go)
}

// reserve writes up to n intents, as many as the window has room for (store.Ledger.Room)
// and limit grants; o owns each seed before its intent is written, and gives back those
// not written. It returns the intents and, when limit granted fewer, how long until its
// next slot.
func (w *GenerateWorker) reserve(ctx context.Context, a *attemptState, n int, limit store.CreationLimit, o owner) ([]store.Intent, time.Duration, error) {
	seeds := newSeeds(n)
	for _, seed := range seeds {
		o.own(seed)
	}
	intents, wait, err := w.store.ReserveCreations(ctx, a.sub.ID, seeds, a.window, limit)
	for _, seed := range seeds[len(intents):] {
		o.disown(seed)
	}
	o.note(reserved(intents))
	return intents, wait, err
}

// creationLimit is the fleet's limit on creations (PREDICTIONS_PER_MINUTE).
func (w *GenerateWorker) creationLimit() store.CreationLimit {
	return store.CreationLimit{PerWindow: w.cfg.PerMinute, Window: time.Minute}
}

// startCreates reserves up to want intents and starts a create task for each. It returns
// how many it started and, when the fleet's limit gave none, how long until it will.
func (w *GenerateWorker) startCreates(ctx context.Context, a *attemptState, want int) (int, time.Duration, error) {
	intents, wait, err := w.reserve(ctx, a, want, w.creationLimit(), attemptOwner{a})
	if err != nil {
		return 0, 0, err
	}
	for _, in := range intents {
		a.tasks.startCreate(in.Seed, func(o owner) error { return w.create(ctx, a, in, o) })
	}
	return len(intents), wait, nil
}
