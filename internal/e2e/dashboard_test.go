package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/deploy"
	"photogen/internal/fakereplicate"
)

// TestDashboardMetricsExistOnARealScrape: after a full generation (webhooks, photos
// stored, the job completed) and a usage call, every metric the Grafana dashboard
// (deploy/grafana/photogen.json) queries is on the api's or a worker's /metrics page, so
// no panel stays empty because of a misspelt or missing name.
func TestDashboardMetricsExistOnARealScrape(t *testing.T) {
	t.Parallel()
	names, err := deploy.DashboardMetricNames()
	require.NoError(t, err)
	require.NotEmpty(t, names)
	// The usage endpoints are on: the dashboard reads their counter.
	s := newStack(t, fakereplicate.Config{Latency: 20 * time.Millisecond}, map[string]string{"AUTH_JWT_SECRET": jwtSecret})
	_, c := s.startAPI(t)
	w := s.startWorker(t)
	// Where Prometheus scrapes each process: change these if /metrics moves to a
	// listener of its own.
	apiMetrics, workerMetrics := "http://"+s.env["METRICS_ADDR"], "http://"+w.addr

	sub := paySubscribers(t, c, 1)[0]
	requireThirtyUnique(t, waitState(t, c, sub.AccessToken, "completed", 30*time.Second))
	consume(t, c, userJWT(t, uuid.New()), "resumes", nil)

	// Some series appear a moment after the generation ends: look again for a while.
	var missing []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		missing = absent(t, names, apiMetrics, workerMetrics)
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	require.Empty(t, missing, "metrics the dashboard queries that no process exposes")
}

// absent returns the names that appear on none of the /metrics pages of bases.
func absent(t *testing.T, names []string, bases ...string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, base := range bases {
		for series := range scrape(t, base) {
			name, _, _ := strings.Cut(series, "{")
			seen[name] = true
		}
	}
	var missing []string
	for _, n := range names {
		if !seen[n] {
			missing = append(missing, n)
		}
	}
	return missing
}
