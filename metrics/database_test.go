// Tests of photogen_database_last_reached_timestamp_seconds: absent until the clock is
// first reached, then the time of its last reach.

package metrics_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

const lastReached = "photogen_database_last_reached_timestamp_seconds"

func TestDatabaseClock(t *testing.T) {
	t.Parallel()
	var c metrics.DatabaseClock
	_, ok := c.Last()
	require.False(t, ok, "a new clock has never been reached")
	m := metrics.New()
	m.RegisterDatabaseClock(&c)

	require.NotContains(t, scrape(t, m.Handler()), lastReached, "no series before the first reach: 0 would read as 56 years without the database")

	before := time.Now()
	c.Reached()
	after := time.Now()
	at, ok := c.Last()
	require.True(t, ok)
	require.False(t, at.Before(before) || at.After(after), "Last is the time of Reached")
	v := sample(t, m.Registry(), lastReached, nil).GetGauge().GetValue()
	require.InDelta(t, float64(at.UnixNano())/1e9, v, 1e-3)
	require.Contains(t, scrape(t, m.Handler()), lastReached+" ")
}
