package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

func TestObserveProviderCall(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	g := m.Registry()

	n, err := testutil.GatherAndCount(g, "photogen_provider_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 8, n, "every op and result exists from New on")

	m.ObserveProviderCall("create", 1500*time.Millisecond, nil)
	m.ObserveProviderCall("create", 500*time.Millisecond, nil)
	m.ObserveProviderCall("get", 200*time.Millisecond, errors.New("boom"))

	create := sample(t, g, "photogen_provider_request_duration_seconds",
		map[string]string{"op": "create", "result": "ok"}).GetHistogram()
	require.Equal(t, uint64(2), create.GetSampleCount())
	require.InDelta(t, 2, create.GetSampleSum(), 1e-9)
	getErr := sample(t, g, "photogen_provider_request_duration_seconds",
		map[string]string{"op": "get", "result": "error"}).GetHistogram()
	require.Equal(t, uint64(1), getErr.GetSampleCount())
	require.InDelta(t, 0.2, getErr.GetSampleSum(), 1e-9)
	require.Zero(t, sample(t, g, "photogen_provider_request_duration_seconds",
		map[string]string{"op": "get", "result": "ok"}).GetHistogram().GetSampleCount())
}
