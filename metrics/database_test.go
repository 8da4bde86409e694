// Tests of photogen_database_last_reached_timestamp_seconds: absent until the clock is
// first reached, then the time of its last reach.

package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

func TestDatabaseClock(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var c metrics.DatabaseClock
	m.RegisterDatabaseClock(&c)
	const name = "photogen_database_last_reached_timestamp_seconds"

	_, ok := c.Last()
	require.False(t, ok, "a new clock has never been reached")
	n, err := testutil.GatherAndCount(m.Registry(), name)
	require.NoError(t, err)
	require.Zero(t, n, "no series before the first reach: 0 would read as 56 years without the database")

	before := time.Now()
	c.Reached()
	after := time.Now()
	at, ok := c.Last()
	require.True(t, ok)
	require.False(t, at.Before(before) || at.After(after), "Last is the time of Reached")
	v := sample(t, m.Registry(), name, nil).GetGauge().GetValue()
	require.InDelta(t, float64(at.UnixNano())/1e9, v, 1e-3)
	require.Contains(t, scrape(t, m.Handler()), name+" ")
}
