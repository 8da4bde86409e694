// This file is the linger policy: how long an attempt with predictions in flight waits in
// place for a webhook before it sleeps, and the wait itself.

package worker

import (
	"context"
	"time"

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

// mayLinger reports whether the attempt, with no task under way, waits in place for
// news: webhooks on, predictions open, still creating, the process listening for rings,
// and a worker slot free besides its own (a job waiting for a slot is never kept waiting
// by one that lingers: Work nudges every attempt when the slots fill up).
func (w *GenerateWorker) mayLinger(a *attemptState) bool {
	return w.cfg.Webhooks && a.rings != nil && a.ledger.Open() > 0 && a.creating() &&
		w.bell.isListening() && int(w.running.Load()) < w.cfg.Concurrency
}

// lingerEnd is when a linger that starts now ends with no news: lingerUntil, or the next
// check when it is due sooner than the shortest sleep (a lost webhook's check then costs
// no sleep).
func (w *GenerateWorker) lingerEnd(ctx context.Context, a *attemptState) time.Time {
	until, checkAt := lingerUntil(time.Now(), a.ledger, a.took), w.nextCheckAt(ctx, a.ledger)
	if checkAt.After(until) && time.Until(checkAt) < minSleep {
		until = checkAt
	}
	return until
}
