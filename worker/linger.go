// This file is the linger policy: how long an attempt with predictions in flight waits in
// place for a webhook before it sleeps, and the wait itself.

package worker

import (
	"context"
	"time"

	"github.com/google/uuid"

	"photogen/store"
)

// lingerFor is the shortest linger. It matches River's completer, which writes a
// finished attempt every 250 ms: a webhook just after the attempt ends waits that long
// before it can wake the job (generation.Wake), and sibling predictions' webhooks follow
// each other within milliseconds.
const lingerFor = 300 * time.Millisecond

// lingerAtMost bounds a linger for an expected end: a prediction expected sooner is
// waited for in place (cheaper than a sleep and a wake-up); a slower model's attempt
// sleeps and holds no worker slot while the model runs. (A check due sooner than the
// shortest sleep is waited for too: see lingerStep.)
const lingerAtMost = 2 * time.Second

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
// wake-up, rung by the bell), and reports whether some came; it takes the news, so that
// the job is not woken again for it after this attempt. It waits only while the bell
// listens, and while this process has a worker slot free besides its own: a job waiting
// for a slot is never kept waiting by one that lingers (Work rings every waiter when
// the slots fill up). Waiting costs no query: one look when it starts, one per ring.
func (w *GenerateWorker) linger(ctx context.Context, id uuid.UUID, until time.Time) (bool, error) {
	rang, stop, ok := w.bell.subscribe(id)
	defer stop()
	if !ok {
		return false, nil
	}
	deadline := time.NewTimer(time.Until(until))
	defer deadline.Stop()
	for w.bell.isListening() && int(w.running.Load()) < w.cfg.Concurrency {
		if news, err := w.store.TakeWake(ctx, id); err != nil || news {
			return news, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-rang:
		}
	}
	return false, nil
}
