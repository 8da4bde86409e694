// Package live fans a subscriber's changes out to the event streams open in this
// process. PostgreSQL rings (store.SubscriberChannel, at the commit of each change), the
// Listener hears it on one connection and the Hub wakes that subscriber's streams; a
// stream then reads the subscriber from the database, so a notice is only a doorbell:
// several coalesce into one wake, and none carries what the stream sends.
package live

import (
	"sync"

	"github.com/google/uuid"
)

// Hub maps a subscriber to the streams open for it. It is safe for concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[uuid.UUID]map[*Subscription]struct{}
	closed bool
	done   chan struct{}
}

// NewHub returns an empty, open Hub.
func NewHub() *Hub {
	return &Hub{subs: make(map[uuid.UUID]map[*Subscription]struct{}), done: make(chan struct{})}
}

// Subscription is one stream's place in the Hub: Wake receives when the subscriber may
// have changed, Done is closed when the Hub closes (the server shuts down).
type Subscription struct {
	hub  *Hub
	id   uuid.UUID
	wake chan struct{}
}

// Subscribe registers a stream of subscriber id. Subscribe before the stream's first read
// of the subscriber, so that no change committed after that read goes unheard. Call
// Cancel when the stream ends. On a closed Hub the subscription's Done is closed already.
func (h *Hub) Subscribe(id uuid.UUID) *Subscription {
	s := &Subscription{hub: h, id: id, wake: make(chan struct{}, 1)}
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

func (s *Subscription) ring() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake is pending already: the stream will read everything there is
	}
}

// Notify wakes every stream of subscriber id.
func (h *Hub) Notify(id uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[id] {
		s.ring()
	}
}

// NotifyAll wakes every stream: after the Listener reconnected, when notices may have been
// lost in between.
func (h *Hub) NotifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			s.ring()
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
