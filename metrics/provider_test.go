package metrics_test

import (
	"errors"
	"fmt"
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
	require.Equal(t, 12, n, "every op and result (ok, error, throttled) exists from New on")

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

	m.ObserveProviderCall("create", 10*time.Millisecond, fmt.Errorf("create: %w", throttled{}))
	require.Equal(t, uint64(1), sample(t, g, "photogen_provider_request_duration_seconds",
		map[string]string{"op": "create", "result": "throttled"}).GetHistogram().GetSampleCount(),
		"an error that says it was throttled counts apart")
}

// throttled is a provider's 429, as provider.Error reports it.
type throttled struct{}

func (throttled) Error() string   { return "provider answered 429" }
func (throttled) Throttled() bool { return true }
