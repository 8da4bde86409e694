package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

func TestObserveJobRun(t *testing.T) {
	t.Parallel()
	m := metrics.New()

	m.ObserveJobRun("generate_photos", "completed", 2*time.Second)
	m.ObserveJobRun("generate_photos", "completed", 3*time.Second)
	m.ObserveJobRun("generate_photos", "snoozed", 25*time.Minute)
	m.ObserveJobRun("poll_prediction", "retried", time.Second)

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP photogen_job_runs_total River job runs finished by this worker, by job kind and outcome.
# TYPE photogen_job_runs_total counter
photogen_job_runs_total{kind="generate_photos",outcome="cancelled"} 0
photogen_job_runs_total{kind="generate_photos",outcome="completed"} 2
photogen_job_runs_total{kind="generate_photos",outcome="retried"} 0
photogen_job_runs_total{kind="generate_photos",outcome="snoozed"} 1
photogen_job_runs_total{kind="poll_prediction",outcome="cancelled"} 0
photogen_job_runs_total{kind="poll_prediction",outcome="completed"} 0
photogen_job_runs_total{kind="poll_prediction",outcome="retried"} 1
photogen_job_runs_total{kind="poll_prediction",outcome="snoozed"} 0
`), "photogen_job_runs_total"))

	h := sample(t, m.Registry(), "photogen_job_run_duration_seconds",
		map[string]string{"kind": "generate_photos"}).GetHistogram()
	require.Equal(t, uint64(3), h.GetSampleCount())
	require.InDelta(t, 5+25*60, h.GetSampleSum(), 1e-9)
	buckets := h.GetBucket()
	last := buckets[len(buckets)-1]
	require.InDelta(t, 1800, last.GetUpperBound(), 0, "largest bucket is 30 minutes")
	require.Equal(t, uint64(3), last.GetCumulativeCount(), "a 25 minute run falls in a finite bucket")
	require.Equal(t, uint64(2), buckets[len(buckets)-2].GetCumulativeCount(), "and not in the 20 minute one")
}

func TestObserveJobRunKeepsOtherOutcomes(t *testing.T) {
	t.Parallel()
	m := metrics.New()

	m.ObserveJobRun("generate_photos", "discarded", time.Second)

	v := sample(t, m.Registry(), "photogen_job_runs_total",
		map[string]string{"kind": "generate_photos", "outcome": "discarded"}).GetCounter().GetValue()
	require.InDelta(t, 1, v, 0)
	n, err := testutil.GatherAndCount(m.Registry(), "photogen_job_runs_total")
	require.NoError(t, err)
	require.Equal(t, 5, n)
}
