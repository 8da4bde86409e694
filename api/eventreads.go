// This file shares the event streams' reads of a subscriber: when a change wakes the 50
// streams of one subscriber, one read serves them all, and never a read that began
// before a stream's wake (it could miss the change that rang).

package api

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"photogen/generation"
	"photogen/store"
)

// readTimeout bounds one shared read.
const readTimeout = 5 * time.Second

// sharedReads runs at most one read per subscriber at a time for the streams.
type sharedReads struct {
	store *store.Store
	mu    sync.Mutex
	m     map[uuid.UUID]*readFlight
}

func newSharedReads(st *store.Store) *sharedReads {
	return &sharedReads{store: st, m: make(map[uuid.UUID]*readFlight)}
}

type readFlight struct {
	start time.Time
	done  chan struct{}
	sub   *generation.Subscriber
	err   error
}

// read returns subscriber id as read by a query that began at or after after: it joins
// the read under way if that one began late enough, and starts one otherwise.
func (r *sharedReads) read(ctx context.Context, id uuid.UUID, after time.Time) (*generation.Subscriber, error) {
	r.mu.Lock()
	f := r.m[id]
	if f == nil || f.start.Before(after) {
		f = &readFlight{start: time.Now(), done: make(chan struct{})}
		r.m[id] = f
		go r.run(context.WithoutCancel(ctx), id, f) // not ended by this stream's end: others wait on it
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.sub, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *sharedReads) run(ctx context.Context, id uuid.UUID, f *readFlight) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	f.sub, f.err = r.store.SubscriberByID(ctx, id)
	r.mu.Lock()
	if r.m[id] == f {
		delete(r.m, id)
	}
	r.mu.Unlock()
	close(f.done)
}
