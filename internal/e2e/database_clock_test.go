// A worker process, idle and with defaults, exposes when it last reached PostgreSQL on its
// metrics listener, and keeps it fresh (photogen_database_last_reached_timestamp_seconds,
// read by the PhotogenWorkerDatabaseUnreachable alert).

package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestIdleWorkerExposesItsLastDatabaseReach(t *testing.T) {
	t.Parallel()
	const name = "photogen_database_last_reached_timestamp_seconds"
	s := newStack(t, fakereplicate.Config{}, nil)
	w := s.startWorker(t)
	base := "http://" + w.addr

	// The worker does nothing for us between the scrapes: only its own statements (River's
	// polling) and the scrape's queue read move the gauge.
	var values []float64
	for range 3 {
		time.Sleep(1500 * time.Millisecond)
		got, ok := scrape(t, base)[name]
		require.True(t, ok, "a running worker has reached PostgreSQL: %s is on its /metrics", name)
		now := float64(time.Now().UnixNano()) / 1e9
		require.InDelta(t, now-1, got, 2, "the last reach is at most a couple of seconds old")
		values = append(values, got)
	}
	require.Less(t, values[0], values[1], "the gauge moves")
	require.Less(t, values[1], values[2], "the gauge moves")
}
