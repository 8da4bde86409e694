// This file lets a process keep what it derives from subscribers beside its streams (the
// api's status answers): a Watcher hears each change the Hub hears, and when the
// Listener gains or loses its connection, so that nothing kept outlives a change.

package live

import "github.com/google/uuid"

// Watcher is told what the Hub hears. Its methods are called from the Listener's
// goroutine, one at a time, and must not block.
type Watcher interface {
	// Changed reports that subscriber id changed: its notice arrived, after the commit.
	Changed(id uuid.UUID)
	// Listening reports true once the Listener listens (after each reconnection): every
	// change committed from then on will be reported, but those before may have been
	// missed. It reports false when the Listener has lost its connection: until the next
	// true, changes go unreported.
	Listening(on bool)
}

// Watch adds w to the Watchers the Hub tells. Call it before the Listener runs.
func (h *Hub) Watch(w Watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers, w)
}

// Listening tells the Watchers that the Listener listens (on) or has lost its connection
// (off); on also wakes every stream, since notices may have been lost in between.
func (h *Hub) Listening(on bool) {
	for _, w := range h.watching() {
		w.Listening(on)
	}
	if on {
		h.NotifyAll()
	}
}

// watching returns the Watchers, read under the Hub's lock.
func (h *Hub) watching() []Watcher {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.watchers
}
