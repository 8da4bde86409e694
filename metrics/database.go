// This file exposes when the process last reached PostgreSQL: a gauge read at scrape
// time from a clock that the process's database connections move (DatabaseClock).

package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DatabaseClock remembers when the process last got an answer from PostgreSQL. Its zero
// value has never been reached; it is safe for concurrent use and costs one atomic store
// per Reached, so it can be moved by every statement.
type DatabaseClock struct {
	last atomic.Int64 // unix nanoseconds; 0: never
}

// Reached records that PostgreSQL answered now.
func (c *DatabaseClock) Reached() { c.last.Store(time.Now().UnixNano()) }

// Last returns when PostgreSQL last answered, and false if it never has.
func (c *DatabaseClock) Last() (time.Time, bool) {
	ns := c.last.Load()
	return time.Unix(0, ns), ns != 0
}

// RegisterDatabaseClock adds photogen_database_last_reached_timestamp_seconds, the unix
// time of c's Last, read at each scrape (no query of its own); the series is left out of
// scrapes until c has been reached once.
func (m *Metrics) RegisterDatabaseClock(c *DatabaseClock) {
	desc := prometheus.NewDesc("photogen_database_last_reached_timestamp_seconds",
		"Unix time of this process's last statement that PostgreSQL answered (any answer, an error included).", nil, nil)
	m.registry.MustRegister(collectorFunc{desc: desc, collect: func(ch chan<- prometheus.Metric) {
		if at, ok := c.Last(); ok {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(at.UnixNano())/1e9)
		}
	}})
}
