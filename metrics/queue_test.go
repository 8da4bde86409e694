package metrics_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

func TestQueueCollectorReportsStats(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var calls atomic.Int32
	m.RegisterQueue(func(context.Context) (map[string]int, time.Duration, error) {
		calls.Add(1)
		return map[string]int{"available": 3, "running": 2, "retryable": 1}, 90 * time.Second, nil
	})
	require.Zero(t, calls.Load(), "nothing is read before a scrape")

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP photogen_jobs Jobs in the River queue, by state, read at scrape time.
# TYPE photogen_jobs gauge
photogen_jobs{state="available"} 3
photogen_jobs{state="cancelled"} 0
photogen_jobs{state="completed"} 0
photogen_jobs{state="discarded"} 0
photogen_jobs{state="pending"} 0
photogen_jobs{state="retryable"} 1
photogen_jobs{state="running"} 2
photogen_jobs{state="scheduled"} 0
# HELP photogen_queue_oldest_available_seconds How long the oldest available River job has waited, read at scrape time; 0 when none waits.
# TYPE photogen_queue_oldest_available_seconds gauge
photogen_queue_oldest_available_seconds 90
# HELP photogen_queue_stats_errors_total Scrapes at which reading the River queue statistics failed.
# TYPE photogen_queue_stats_errors_total counter
photogen_queue_stats_errors_total 0
`), "photogen_jobs", "photogen_queue_oldest_available_seconds", "photogen_queue_stats_errors_total"))
	require.Equal(t, int32(1), calls.Load(), "one call per scrape")
}

func TestQueueCollectorCountsErrors(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var fail atomic.Bool
	fail.Store(true)
	m.RegisterQueue(func(context.Context) (map[string]int, time.Duration, error) {
		if fail.Load() {
			return nil, 0, errors.New("count jobs: connection refused")
		}
		return map[string]int{"available": 5}, 4 * time.Second, nil
	})
	g := m.Registry()

	for want := 1; want <= 2; want++ {
		n, err := testutil.GatherAndCount(g, "photogen_jobs", "photogen_queue_oldest_available_seconds")
		require.NoError(t, err)
		require.Zero(t, n, "a failed read reports no queue gauges")
		// Every gather is a scrape that fails and is counted, this one too,
		// and the count includes the scrape that reports it.
		require.InDelta(t, float64(2*want), sample(t, g, "photogen_queue_stats_errors_total", nil).GetCounter().GetValue(), 0)
	}

	fail.Store(false)
	require.InDelta(t, 5, sample(t, g, "photogen_jobs", map[string]string{"state": "available"}).GetGauge().GetValue(), 0)
	require.InDelta(t, 4, sample(t, g, "photogen_queue_oldest_available_seconds", nil).GetGauge().GetValue(), 0)
	require.InDelta(t, 4, sample(t, g, "photogen_queue_stats_errors_total", nil).GetCounter().GetValue(), 0)

	body := scrape(t, m.Handler())
	require.Contains(t, body, "photogen_queue_stats_errors_total 4\n")
}

func TestQueueCollectorBoundsTheCall(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	var left atomic.Int64
	m.RegisterQueue(func(ctx context.Context) (map[string]int, time.Duration, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			return nil, 0, errors.New("no deadline")
		}
		left.Store(int64(time.Until(deadline)))
		return map[string]int{}, 0, nil
	})

	scrape(t, m.Handler())

	require.Positive(t, left.Load())
	require.LessOrEqual(t, time.Duration(left.Load()), 2*time.Second)
	require.Greater(t, time.Duration(left.Load()), time.Second)
}

func TestRegisterQueueRejectsMisuse(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	require.Panics(t, func() { m.RegisterQueue(nil) })

	f := func(context.Context) (map[string]int, time.Duration, error) { return nil, 0, nil }
	m.RegisterQueue(f)
	require.Panics(t, func() { m.RegisterQueue(f) }, "a second queue collector would duplicate its metrics")
}
