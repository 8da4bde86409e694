// This file keeps recent status answers in memory, by token hash, so that a poll of an
// unchanged subscriber costs no query. An answer is dropped at its subscriber's notice
// (live.Watcher), all are dropped when the listener reconnects, and none is served while
// it is away; a read that began before a change is never kept after its notice.

package api

import (
	"sync"

	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"photogen/live"
)

// StatusCacheMetrics is what the status cache records: hits and misses of the status
// endpoint's answers, and answers dropped, by reason ("change": its subscriber's
// notice; "reconnect": the listener reconnected or lost its connection; "full": the
// least recently used, to make room).
type StatusCacheMetrics interface {
	StatusCacheHit()
	StatusCacheMiss()
	StatusCacheDropped(reason string, n int)
}

// recentChanges is how many changes the cache remembers to refuse a read that began
// before one of them; a read that began before more changes than that is not kept.
const recentChanges = 4096

// statusAnswer is a status answer as sent: the body, its ETag (and the ETag header's
// value, shared by every answer sent: never written into), and whose it is.
type statusAnswer struct {
	id         uuid.UUID
	body       []byte
	etag       string
	etagHeader []string
}

// change is one dropping: its sequence number and whose (uuid.Nil: all).
type change struct {
	seq uint64
	id  uuid.UUID
}

// statusCache keeps status answers by token hash. It is safe for concurrent use; a nil
// *statusCache keeps nothing.
type statusCache struct {
	mu      sync.Mutex
	answers *simplelru.LRU[[32]byte, statusAnswer]
	byID    map[uuid.UUID][32]byte // the key of each subscriber's answer kept
	on      bool                   // the listener listens: every change from now on is heard
	seq     uint64                 // changes (and reconnections) heard so far
	floor   uint64                 // a read that began before it is never kept: the last (re)connection
	recent  [recentChanges]change  // the last changes, by seq modulo their number
	metrics StatusCacheMetrics     // nil: not recorded
}

// keepStatusAnswers makes the status endpoint keep answers (Config.StatusCacheSize),
// dropped at the changes hub hears, counted in m (nil: not counted). New calls it when the
// api has a Hub: without one no change would be heard, and every answer is read.
func (s *Server) keepStatusAnswers(hub *live.Hub, m StatusCacheMetrics) {
	s.statusCache = newStatusCache(s.cfg.StatusCacheSize)
	if s.statusCache == nil {
		return
	}
	s.statusCache.metrics = m
	hub.Watch(s.statusCache)
}

// newStatusCache returns a cache of at most size answers, or nil (keep nothing) when size
// is below 1.
func newStatusCache(size int) *statusCache {
	if size < 1 {
		return nil
	}
	c := &statusCache{byID: make(map[uuid.UUID][32]byte)}
	// The callback runs for every removal (Remove, Purge, an eviction): the index follows.
	c.answers, _ = simplelru.NewLRU(size, func(_ [32]byte, a statusAnswer) { delete(c.byID, a.id) })
	return c
}

// get returns the answer kept for key, if the cache may serve it; otherwise the version
// to pass to put with the answer read from the database.
func (c *statusCache) get(key [32]byte) (statusAnswer, uint64, bool) {
	if c == nil {
		return statusAnswer{}, 0, false
	}
	c.mu.Lock()
	a, ok := c.answers.Get(key)
	ok = ok && c.on
	version := c.seq
	c.mu.Unlock()
	c.record(ok)
	return a, version, ok
}

// put keeps a, read by a query that began after get returned version, unless a change
// of its subscriber (or a reconnection) was heard since: the read may predate it.
func (c *statusCache) put(version uint64, key [32]byte, a statusAnswer) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || version < c.floor || c.seq-version >= recentChanges {
		return
	}
	for s := version + 1; s <= c.seq; s++ {
		if c.recent[s%recentChanges].id == a.id {
			return
		}
	}
	if c.answers.Add(key, a) && c.metrics != nil {
		c.metrics.StatusCacheDropped("full", 1)
	}
	c.byID[a.id] = key
}

// Changed drops subscriber id's answer: its notice arrived (live.Watcher), or this process
// changed it.
func (c *statusCache) Changed(id uuid.UUID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.recent[c.seq%recentChanges] = change{seq: c.seq, id: id}
	if key, ok := c.byID[id]; ok {
		c.answers.Remove(key)
		if c.metrics != nil {
			c.metrics.StatusCacheDropped("change", 1)
		}
	}
}

// Listening drops every answer and serves again only when on (live.Watcher): changes
// made while the listener was away were not heard.
func (c *statusCache) Listening(on bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.recent[c.seq%recentChanges] = change{seq: c.seq}
	c.floor = c.seq
	c.on = on
	if n := c.answers.Len(); n > 0 {
		c.answers.Purge()
		if c.metrics != nil {
			c.metrics.StatusCacheDropped("reconnect", n)
		}
	}
}

func (c *statusCache) record(hit bool) {
	switch {
	case c.metrics == nil:
	case hit:
		c.metrics.StatusCacheHit()
	default:
		c.metrics.StatusCacheMiss()
	}
}

// len returns how many answers are kept.
func (c *statusCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answers.Len()
}
