package usage_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/prometheus/client_golang/prometheus"

	"photogen/usage"
)

func TestCounterCall(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := usage.NewMetrics(reg)

	m.Consumed("generations", true)
	m.Consumed("generations", true)
	m.Consumed("generations", false)
	m.Consumed("uploads", false)

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP photogen_usage_consumes_total Attempts to consume a usage counter, by counter and result (accepted or refused).
# TYPE photogen_usage_consumes_total counter
photogen_usage_consumes_total{counter="generations",result="accepted"} 2
photogen_usage_consumes_total{counter="generations",result="refused"} 1
photogen_usage_consumes_total{counter="uploads",result="accepted"} 0
photogen_usage_consumes_total{counter="uploads",result="refused"} 1
`), "photogen_usage_consumes_total"))
}
