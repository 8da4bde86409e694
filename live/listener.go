// This file is the process's one LISTEN connection: it wakes the Hub's streams for each
// notice and reconnects with backoff when the connection is lost.

package live

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"photogen/store"
)

// Listener hears store.SubscriberChannel on one connection of its own and wakes the
// Hub's streams.
type Listener struct {
	store  *store.Store
	hub    *Hub
	logger *slog.Logger
	// Backoff bounds the wait between reconnection attempts: it starts at MinBackoff and
	// doubles up to MaxBackoff. Zero values: 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
}

// NewListener returns a Listener that wakes hub's streams.
func NewListener(s *store.Store, hub *Hub, logger *slog.Logger) *Listener {
	return &Listener{store: s, hub: hub, logger: logger}
}

// Run listens until ctx ends and then returns nil. Each time it (re)connects it wakes
// every stream, since notices sent while it was away are lost: the streams read what
// they missed from the database. It tells the Hub's Watchers when it listens and when it
// has lost its connection (Hub.Listening).
func (l *Listener) Run(ctx context.Context) error {
	minB, maxB := l.MinBackoff, l.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB < minB {
		maxB = max(minB, 5*time.Second)
	}
	backoff := minB
	for {
		err := l.listen(ctx, func() { backoff = minB })
		l.hub.Listening(false)
		if ctx.Err() != nil {
			return nil
		}
		l.logger.WarnContext(ctx, "live updates: listener lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxB)
	}
}

// listen holds one connection until it fails; connected is called once it listens.
func (l *Listener) listen(ctx context.Context, connected func()) error {
	ln, err := l.store.ListenSubscribers(ctx)
	if err != nil {
		return err
	}
	defer func() {
		// Bounded: the connection may be dead already.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = ln.Close(cctx)
	}()
	connected()
	l.hub.Listening(true) // wakes every stream: notices sent while away are lost
	for {
		n, err := ln.Next(ctx)
		if errors.Is(err, store.ErrBadNotice) {
			l.logger.WarnContext(ctx, "live updates: ignored a notice", "err", err)
			continue
		}
		if err != nil {
			return err
		}
		l.hub.Notify(n.SubscriberID)
	}
}
