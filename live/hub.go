// Package live fans a subscriber's changes out to the event streams open in this
// process. PostgreSQL rings (store.SubscriberChannel, at the commit of each change), the
// Listener hears it on one connection and the Hub wakes that subscriber's streams; a
// stream then reads the subscriber from the database, so a notice is only a doorbell:
// several coalesce into one wake, and none carries what the stream sends.
package live

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Hub maps a subscriber to the streams open for it. It is safe for concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[uuid.UUID]map[*Subscription]struct{}
	closed bool
	done   chan struct{}
	epoch  time.Time // with its monotonic reading: RungAt compares monotonic times

	watchers []Watcher // told each change (Watch)
}

// NewHub returns an empty, open Hub.
func NewHub() *Hub {
	return &Hub{subs: make(map[uuid.UUID]map[*Subscription]struct{}), done: make(chan struct{}), epoch: time.Now()}
}

// Subscription is one stream's place in the Hub: Wake receives when the subscriber may
// have changed, Done is closed when the Hub closes (the server shuts down).
type Subscription struct {
	hub    *Hub
	id     uuid.UUID
	wake   chan struct{}
	rungAt atomic.Int64 // the last ring's time, in ns since the Hub's epoch
}

// Subscribe registers a stream of subscriber id. Subscribe before the stream's first read
// of the subscriber, so that no change committed after that read goes unheard. Call
// Cancel when the stream ends. On a closed Hub the subscription's Done is closed already.
func (h *Hub) Subscribe(id uuid.UUID) *Subscription {
	s := &Subscription{hub: h, id: id, wake: make(chan struct{}, 1)}
	s.rungAt.Store(int64(time.Since(h.epoch)))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return s
	}
	set := h.subs[id]
	if set == nil {
		set = make(map[*Subscription]struct{})
		h.subs[id] = set
	}
	set[s] = struct{}{}
	return s
}

// Wake receives once for any number of wakes since the last receive.
func (s *Subscription) Wake() <-chan struct{} { return s.wake }

// Done is closed when the Hub closes: the stream should end.
func (s *Subscription) Done() <-chan struct{} { return s.hub.done }

// Cancel removes the subscription from the Hub. It may be called more than once.
func (s *Subscription) Cancel() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if set := h.subs[s.id]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(h.subs, s.id)
		}
	}
}

// RungAt returns when the Hub last rang this subscription (after its notice arrived, so
// after the change's commit): a read of the subscriber that began at or after it sees the
// change. Before any ring it is the time of Subscribe.
func (s *Subscription) RungAt() time.Time { return s.hub.epoch.Add(time.Duration(s.rungAt.Load())) }

func (s *Subscription) ring(now time.Time) {
	s.rungAt.Store(int64(now.Sub(s.hub.epoch)))
	select {
	case s.wake <- struct{}{}:
	default: // a wake is pending already: the stream will read everything there is
	}
}

// Notify wakes every stream of subscriber id, then tells the Watchers.
func (h *Hub) Notify(id uuid.UUID) {
	h.mu.Lock()
	now := time.Now()
	for s := range h.subs[id] {
		s.ring(now)
	}
	watchers := h.watchers
	h.mu.Unlock()
	for _, w := range watchers {
		w.Changed(id)
	}
}

// NotifyAll wakes every stream: after the Listener reconnected, when notices may have been
// lost in between.
func (h *Hub) NotifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	for _, set := range h.subs {
		for s := range set {
			s.ring(now)
		}
	}
}

// Len returns how many subscriptions are open.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// Close ends every stream (their Done is closed) and every later one at once. Call it
// when the server shuts down, before it waits for its handlers. It may be called more
// than once.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
		h.subs = make(map[uuid.UUID]map[*Subscription]struct{})
	}
}
