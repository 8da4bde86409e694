package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
	"photogen/usage"
)

func TestHandlerServesEveryMetric(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.RegisterQueue(func(context.Context) (map[string]int, time.Duration, error) {
		return map[string]int{"available": 1}, time.Second, nil
	})

	// Vectors labelled by route, job kind or usage counter have series only
	// once a value has been seen.
	engine := gin.New()
	engine.Use(m.GinMiddleware())
	engine.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	m.ObserveJobRun("generate_photos", "completed", time.Second)
	usage.NewMetrics(m.Registry()).Consumed("generations", true)

	body := scrape(t, m.Handler())

	for name, typ := range map[string]string{
		"photogen_http_requests_total":               "counter",
		"photogen_http_request_duration_seconds":     "histogram",
		"photogen_job_runs_total":                    "counter",
		"photogen_job_run_duration_seconds":          "histogram",
		"photogen_predictions_created_total":         "counter",
		"photogen_prediction_spend_usd_total":        "counter",
		"photogen_predictions_finished_total":        "counter",
		"photogen_provider_request_duration_seconds": "histogram",
		"photogen_photos_appended_total":             "counter",
		"photogen_usage_consumes_total":              "counter",
		"photogen_jobs":                              "gauge",
		"photogen_queue_oldest_available_seconds":    "gauge",
		"photogen_queue_stats_errors_total":          "counter",
		"go_goroutines":                              "gauge",
	} {
		require.True(t, strings.Contains(body, "# TYPE "+name+" "+typ+"\n"), "missing %s %s", typ, name)
	}
	if runtime.GOOS == "linux" {
		require.True(t, strings.Contains(body, "# TYPE process_cpu_seconds_total counter\n"), "missing process collector")
	}
}

// Series whose labels are known in advance start at zero; the vectors
// labelled by route, job kind or usage counter start empty rather than with a
// placeholder label value.
func TestNewStartsAtZero(t *testing.T) {
	t.Parallel()
	m := metrics.New()

	body := scrape(t, m.Handler())

	for _, line := range []string{
		"photogen_predictions_created_total 0\n",
		"photogen_prediction_spend_usd_total 0\n",
		"photogen_photos_appended_total 0\n",
		`photogen_predictions_finished_total{status="aborted"} 0` + "\n",
		`photogen_provider_request_duration_seconds_count{op="list",result="error"} 0` + "\n",
	} {
		require.True(t, strings.Contains(body, line), "missing %q", line)
	}
	for _, prefix := range []string{
		"photogen_http_requests_total{",
		"photogen_job_runs_total{",
		"photogen_usage_consumes_total{",
		"photogen_jobs{", // no queue registered
	} {
		require.False(t, strings.Contains(body, prefix), "unexpected %s", prefix)
	}
}

func TestNewUsesItsOwnRegistry(t *testing.T) {
	t.Parallel()
	a, b := metrics.New(), metrics.New() // a second New must not collide with the first
	a.PredictionCreated()

	require.NotSame(t, a.Registry(), b.Registry())
	require.Zero(t, sample(t, b.Registry(), "photogen_predictions_created_total", nil).GetCounter().GetValue())

	families, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range families {
		require.False(t, strings.HasPrefix(f.GetName(), "photogen_"), "default registry holds %s", f.GetName())
	}
}

// Recording and scraping at once is what a busy process does; run with -race.
func TestConcurrentUseAndScrape(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.RegisterQueue(func(context.Context) (map[string]int, time.Duration, error) {
		return map[string]int{"available": 1}, 0, nil
	})
	h := m.Handler()
	um := usage.NewMetrics(m.Registry())

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				m.PredictionCreated()
				m.PredictionFinished("succeeded")
				m.ObserveJobRun("generate", "completed", time.Millisecond)
				m.ObserveProviderCall("get", time.Millisecond, nil)
				um.Consumed("generations", true)
				m.PhotosAppended(1)
				m.SetPredictionCost(0.003)
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			scrape(t, h)
		}
	})
	wg.Wait()

	g := m.Registry()
	require.InDelta(t, 200, sample(t, g, "photogen_predictions_created_total", nil).GetCounter().GetValue(), 0)
	require.InDelta(t, 0.6, sample(t, g, "photogen_prediction_spend_usd_total", nil).GetCounter().GetValue(), 1e-9)
	require.InDelta(t, 200, sample(t, g, "photogen_photos_appended_total", nil).GetCounter().GetValue(), 0)
	require.Equal(t, uint64(200), sample(t, g, "photogen_job_run_duration_seconds", map[string]string{"kind": "generate"}).GetHistogram().GetSampleCount())
}
