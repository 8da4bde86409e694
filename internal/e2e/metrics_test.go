package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// scrape returns the /metrics page of base as name{labels} -> value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	c := &demo.Client{BaseURL: base}
	resp, err := c.Do(context.Background(), http.MethodGet, "/metrics", nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	out := map[string]float64{}
	for _, line := range strings.Split(string(resp.Body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		out[line[:i]] = v
	}
	return out
}

// TestMetricsAfterAGeneration scrapes the api (on METRICS_ADDR) and the worker after one
// paid generation with usage calls, and finds each counter at its value.
func TestMetricsAfterAGeneration(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 20 * time.Millisecond},
		map[string]string{"AUTH_JWT_SECRET": jwtSecret, "PREDICTION_COST_USD": "0.01"})
	_, c := s.startAPI(t)
	w := s.startWorker(t)
	sub := paySubscribers(t, c, 1)[0]
	waitState(t, c, sub.AccessToken, "completed", 30*time.Second)
	token := userJWT(t, uuid.New())
	for range 4 {
		consume(t, c, token, "resumes", nil)
	}

	var wm map[string]float64
	require.Eventually(t, func() bool {
		wm = scrape(t, "http://"+w.addr)
		return wm[`photogen_job_runs_total{kind="generate_photos",outcome="completed"}`] == 1
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, 30.0, wm["photogen_predictions_created_total"])
	require.Equal(t, 30.0, wm[`photogen_predictions_finished_total{status="succeeded"}`])
	require.Equal(t, 0.0, wm[`photogen_predictions_finished_total{status="failed"}`])
	require.Equal(t, 30.0, wm["photogen_photos_appended_total"])
	require.InDelta(t, 0.30, wm["photogen_prediction_spend_usd_total"], 1e-9)
	require.Equal(t, 1.0, wm[`photogen_job_runs_total{kind="generate_photos",outcome="completed"}`])
	// The job runs in short attempts, asleep in between (snoozed): each is timed.
	runs := 0.0
	for _, o := range []string{"completed", "snoozed", "retried", "cancelled"} {
		runs += wm[`photogen_job_runs_total{kind="generate_photos",outcome="`+o+`"}`]
	}
	require.Equal(t, runs, wm[`photogen_job_run_duration_seconds_count{kind="generate_photos"}`])
	require.Equal(t, 30.0, wm[`photogen_provider_request_duration_seconds_count{op="create",result="ok"}`])
	require.Zero(t, wm[`photogen_provider_request_duration_seconds_count{op="get",result="ok"}`], "webhooks, no polling")
	require.Equal(t, 30.0, wm[`photogen_photo_store_delay_seconds_count`])
	require.Equal(t, 1.0, wm[`photogen_generation_duration_seconds_count`])
	// The workers' periodic cleanup job can be available for a moment at any scrape:
	// what must hold is that the queue drains, not that a scrape never sees it waiting.
	require.Eventually(t, func() bool { return scrape(t, "http://"+w.addr)["photogen_queue_oldest_available_seconds"] == 0 },
		10*time.Second, 50*time.Millisecond, "no job keeps waiting")

	// The api serves its metrics on METRICS_ADDR only, never on its public port.
	resp, err := c.Do(context.Background(), http.MethodGet, "/metrics", nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, resp.Status)
	apiMetrics := "http://" + s.env["METRICS_ADDR"]
	am := scrape(t, apiMetrics)
	require.Equal(t, 1.0, am[`photogen_http_requests_total{code="200",method="POST",route="/webhooks/stripe"}`])
	require.Equal(t, 1.0, am[`photogen_http_requests_total{code="201",method="POST",route="/api/blueprint/subscribers"}`])
	require.Positive(t, am[`photogen_http_request_duration_seconds_count{method="GET",route="/api/blueprint/status"}`])
	require.Equal(t, 3.0, am[`photogen_usage_consumes_total{counter="resumes",result="accepted"}`])
	require.Equal(t, 1.0, am[`photogen_usage_consumes_total{counter="resumes",result="refused"}`])
	require.Equal(t, 30.0, am[`photogen_replicate_webhooks_total{outcome="recorded"}`])
	require.Contains(t, am, "photogen_predictions_in_flight")
	require.Eventually(t, func() bool { return scrape(t, apiMetrics)[`photogen_jobs{state="completed"}`] >= 1 },
		10*time.Second, 50*time.Millisecond, "the queue gauge sees the completed job")
	for name := range am {
		require.NotContains(t, name, sub.AccessToken)
	}
}
