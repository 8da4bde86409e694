// This file is the worker process's side of the wake-up handshake (generation.Wake
// states it): one LISTEN connection that gives the attempts of a subscriber its news,
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
// store.WakeChannel (reconnecting with backoff) that gives each attempt the news of its
// subscriber's predictions, the wake-up of jobs River reports asleep with news pending
// (generation.WakePending), and, after each reconnection, the
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

// bell dispatches the rings of store.WakeChannel to the attempts subscribed to a
// subscriber. Its zero value is ready, and not listening: subscribe reports so until
// run has connected.
type bell struct {
	mu        sync.Mutex
	listening bool
	waiting   map[uuid.UUID]map[*rings]bool
}

// rings is one attempt's subscription to its subscriber's rings: the news rung since it
// last took them, and whether it should look at the ledger (a ring without news, or the
// connection lost or back). Its channel receives when there is something to take, or
// when the attempt should ask again whether it may linger (nudge).
type rings struct {
	c    chan struct{}
	mu   sync.Mutex
	news []generation.News
	look bool
}

// take returns the news rung since the last take, and whether to look at the ledger.
func (r *rings) take() (news []generation.News, look bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	news, look = r.news, r.look
	r.news, r.look = nil, false
	return news, look
}

// add queues news (none: look at the ledger) and signals the attempt.
func (r *rings) add(news generation.News, look bool) {
	r.mu.Lock()
	switch {
	case look:
		r.look = true
	case news.Prediction == "":
		r.look = true // news without a prediction: a sender that tells no more
	case len(r.news) < maxQueuedNews:
		r.news = append(r.news, news)
	default:
		r.look = true // the attempt fell far behind: the ledger has it all
	}
	r.mu.Unlock()
	r.nudge()
}

// nudge signals the attempt without news.
func (r *rings) nudge() {
	select {
	case r.c <- struct{}{}:
	default: // signalled already
	}
}

// maxQueuedNews bounds the news an attempt's subscription holds; more asks it to look.
const maxQueuedNews = 256

// subscribe returns the subscription of an attempt to id's rings, and the func that ends
// it. ok is false, and nothing is subscribed, while the bell does not listen: an attempt
// then cannot count on a ring.
func (b *bell) subscribe(id uuid.UUID) (r *rings, stop func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.listening {
		return nil, func() {}, false
	}
	r = &rings{c: make(chan struct{}, 1)}
	if b.waiting == nil {
		b.waiting = map[uuid.UUID]map[*rings]bool{}
	}
	if b.waiting[id] == nil {
		b.waiting[id] = map[*rings]bool{}
	}
	b.waiting[id][r] = true
	return r, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.waiting[id], r)
		if len(b.waiting[id]) == 0 {
			delete(b.waiting, id)
		}
	}, true
}

// ring gives news to the attempts subscribed to its subscriber.
func (b *bell) ring(news generation.News) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for r := range b.waiting[news.Subscriber] {
		r.add(news, false)
	}
}

// ringAll tells every subscribed attempt to look at the ledger (look), or only to ask
// again whether it may linger (the process's slots filled up).
func (b *bell) ringAll(look bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, subs := range b.waiting {
		for r := range subs {
			if look {
				r.add(generation.News{}, true)
			} else {
				r.nudge()
			}
		}
	}
}

// setListening records whether the connection listens, and tells every attempt to look:
// those that waited through a loss may have missed a ring.
func (b *bell) setListening(on bool) {
	b.mu.Lock()
	b.listening = on
	b.mu.Unlock()
	b.ringAll(true)
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
		if news, err := generation.ParseNews(payload); err == nil {
			b.ring(news)
		}
	}
}
