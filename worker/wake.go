// This file is the worker process's side of the wake-up handshake (generation.Wake
// states it): one LISTEN connection that rings the attempts lingering on a subscriber,
// and the wake-up of jobs that got news while they ran, once River reports them asleep.

package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"photogen/generation"
	"photogen/store"
)

// Wakes runs the process's side of the wake-up until ctx ends: the LISTEN connection on
// store.WakeChannel (reconnecting with backoff), the wake-up of jobs River reports
// asleep with news pending (generation.WakePending), and, after each reconnection, the
// hand-back of jobs whose outcome River dropped (handback.go). Run it beside client, the River
// client that works w's jobs. Without it attempts do not linger, and a job that got news
// while it ran sleeps until its next check.
func (w *GenerateWorker) Wakes(ctx context.Context, client *river.Client[pgx.Tx]) {
	var wg sync.WaitGroup
	wg.Go(func() { w.bell.run(ctx, w.store, w.logger, w.attempts.signalReconnected) })
	wg.Go(func() { w.handBack(ctx, client) })
	w.followRiver(ctx, client)
	wg.Wait()
}

// followRiver follows River's reports of written outcomes until ctx ends: each tells
// the hand-back that an attempt's outcome is safe (attempts.written), and a generation
// job reported asleep is woken if it got news while it ran (generation.WakePending). A
// missed report only delays the job to its next check.
func (w *GenerateWorker) followRiver(ctx context.Context, client *river.Client[pgx.Tx]) {
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobSnoozed,
		river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Job == nil {
				continue
			}
			w.attempts.written(ev.Job.ID)
			if ev.Kind == river.EventKindJobSnoozed && ev.Job.Kind == (generation.GenerateArgs{}).Kind() {
				w.wakePending(ctx, client, ev.Job)
			}
		}
	}
}

// wakePending wakes job, asleep, if it got news while it ran.
func (w *GenerateWorker) wakePending(ctx context.Context, client *river.Client[pgx.Tx], job *rivertype.JobRow) {
	err := w.store.WithTx(ctx, func(tx *store.Store) error {
		return generation.WakePending(ctx, tx, client, job)
	})
	if err != nil && ctx.Err() == nil {
		w.logger.WarnContext(ctx, "wake a job that got news while it ran", "job_id", job.ID, "err", err)
	}
}

// bell dispatches the rings of store.WakeChannel to the attempts waiting on a
// subscriber. Its zero value is ready, and not listening: subscribe reports so until
// run has connected.
type bell struct {
	mu        sync.Mutex
	listening bool
	waiting   map[uuid.UUID]map[chan struct{}]bool
}

// subscribe returns a channel that receives when id is rung (or when every waiter is:
// the connection came back, was lost, or the process's slots filled up), and the func
// that ends the subscription. ok is false, and nothing is subscribed, while the bell
// does not listen: a waiter then cannot count on a ring.
func (b *bell) subscribe(id uuid.UUID) (rang <-chan struct{}, stop func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.listening {
		return nil, func() {}, false
	}
	ch := make(chan struct{}, 1)
	if b.waiting == nil {
		b.waiting = map[uuid.UUID]map[chan struct{}]bool{}
	}
	if b.waiting[id] == nil {
		b.waiting[id] = map[chan struct{}]bool{}
	}
	b.waiting[id][ch] = true
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.waiting[id], ch)
		if len(b.waiting[id]) == 0 {
			delete(b.waiting, id)
		}
	}, true
}

// ring wakes the waiters of id; all wakes every waiter.
func (b *bell) ring(id uuid.UUID, all bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sub, chans := range b.waiting {
		if !all && sub != id {
			continue
		}
		for ch := range chans {
			select {
			case ch <- struct{}{}:
			default: // rung already
			}
		}
	}
}

// ringAll wakes every waiter.
func (b *bell) ringAll() { b.ring(uuid.Nil, true) }

// setListening records whether the connection listens, and wakes every waiter: those
// that waited through a loss may have missed a ring.
func (b *bell) setListening(on bool) {
	b.mu.Lock()
	b.listening = on
	b.mu.Unlock()
	b.ringAll()
}

// isListening reports whether the connection listens now.
func (b *bell) isListening() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.listening
}

// Bounds of the wait between two connections of the bell.
const (
	bellMinBackoff = 100 * time.Millisecond
	bellMaxBackoff = 5 * time.Second
)

// run listens on store.WakeChannel until ctx ends, reconnecting with backoff;
// reconnected is called each time it listens again after a loss.
func (b *bell) run(ctx context.Context, st *store.Store, logger *slog.Logger, reconnected func()) {
	for backoff, before := bellMinBackoff, false; ; backoff = min(2*backoff, bellMaxBackoff) {
		if b.listen(ctx, st, logger, func() {
			if before {
				reconnected()
			}
			before = true
		}) {
			backoff = bellMinBackoff
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// listen holds one connection until it fails or ctx ends, and reports whether it
// listened at all; connected is called once it listens.
func (b *bell) listen(ctx context.Context, st *store.Store, logger *slog.Logger, connected func()) bool {
	ln, err := st.Listen(ctx, store.WakeChannel)
	if err != nil {
		logger.WarnContext(ctx, "wake-ups: cannot listen; lingering attempts sleep instead", "err", err)
		return false
	}
	b.setListening(true)
	connected()
	defer func() {
		b.setListening(false)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second) // the connection may be dead
		defer cancel()
		_ = ln.Close(cctx)
	}()
	for {
		payload, err := ln.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.WarnContext(ctx, "wake-ups: lost the LISTEN connection; reconnecting", "err", err)
			}
			return true
		}
		if id, err := uuid.Parse(payload); err == nil {
			b.ring(id, false)
		}
	}
}
