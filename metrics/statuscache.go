// This file counts the api's status cache: answers served from memory (hits) or read
// from the database (misses), and answers dropped, by reason.

package metrics

import "github.com/prometheus/client_golang/prometheus"

// statusCacheDropReasons are the reasons an answer leaves the status cache: its
// subscriber changed, the listener reconnected (or lost its connection), or the cache
// was full.
var statusCacheDropReasons = [...]string{"change", "reconnect", "full"}

type statusCache struct {
	hits, misses prometheus.Counter
	drops        *prometheus.CounterVec
}

func (m *Metrics) initStatusCache() {
	m.statusCache.hits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "photogen_status_cache_hits_total",
		Help: "Status answers (GET /api/blueprint/status) served from the api's memory, without a query.",
	})
	m.statusCache.misses = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "photogen_status_cache_misses_total",
		Help: "Status answers read from the database: not kept, or kept but not servable (listener away).",
	})
	m.statusCache.drops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_status_cache_drops_total",
		Help: "Status answers dropped from the api's memory, by reason (change, reconnect, full).",
	}, []string{"reason"})
	for _, r := range statusCacheDropReasons {
		m.statusCache.drops.WithLabelValues(r)
	}
	m.registry.MustRegister(m.statusCache.hits, m.statusCache.misses, m.statusCache.drops)
}

// StatusCacheHit counts a status answer served from memory in
// photogen_status_cache_hits_total.
func (m *Metrics) StatusCacheHit() { m.statusCache.hits.Inc() }

// StatusCacheMiss counts a status answer read from the database in
// photogen_status_cache_misses_total.
func (m *Metrics) StatusCacheMiss() { m.statusCache.misses.Inc() }

// StatusCacheDropped adds n answers dropped for reason (change, reconnect, full) to
// photogen_status_cache_drops_total.
func (m *Metrics) StatusCacheDropped(reason string, n int) {
	m.statusCache.drops.WithLabelValues(reason).Add(float64(n))
}
