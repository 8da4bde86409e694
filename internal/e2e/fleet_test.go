package e2e

import (
	"context"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// TestFleetOfThreeWorkers: one api and three worker processes on one database make 30
// photos for each of 30 subscribers. One worker gets SIGTERM mid-run: its running jobs
// are cancelled after the soft stop and go back to the queue with their attempt
// restored; nothing is lost, nothing is paid twice, no attempt is burned.
func TestFleetOfThreeWorkers(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 1200 * time.Millisecond, Jitter: 300 * time.Millisecond, Seed: 9},
		// A short soft stop makes the stopped worker cancel its running jobs back to the
		// queue, which is what this test checks; 900 creations would take more than a
		// minute under the fleet's 600 a minute, which has its own test.
		map[string]string{"SHUTDOWN_SOFT_TIMEOUT": "500ms", "PREDICTIONS_PER_MINUTE": "-1"})
	_, c := s.startAPI(t)
	workers := []*proc{s.startWorker(t), s.startWorker(t), s.startWorker(t)}
	for _, w := range workers {
		waitReady(t, "http://"+w.addr)
	}
	subs := paySubscribers(t, c, 30)
	require.Eventually(t, func() bool { return s.fake.Stats().InFlight >= 20 }, 20*time.Second, 10*time.Millisecond)
	workers[0].Signal(syscall.SIGTERM)
	workers[0].Wait(t, 30*time.Second)
	require.Contains(t, workers[0].Output(), `"msg":"shutting down"`)

	for _, sub := range subs {
		requireThirtyUnique(t, waitState(t, c, sub.AccessToken, "completed", 60*time.Second))
	}
	counts := ledgerCounts(t, s.db.Pool)
	for _, sub := range subs {
		require.Equal(t, [2]int{30, 0}, counts[sub.SubscriberID], "each subscriber cost exactly 30: no job was worked twice at once")
	}
	require.Equal(t, 900, s.fake.Stats().Created)

	// A generation runs as many short jobs, one at a time (each woken by a webhook, see
	// docs/architecture.md); River marks the last ones completed just after their work
	// returns: wait until none is left waiting or running.
	require.Eventually(t, func() bool {
		var open int
		err := s.db.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM river_job WHERE kind = 'generate_photos' AND state <> 'completed'`).Scan(&open)
		return err == nil && open == 0
	}, 20*time.Second, 50*time.Millisecond)
	type job struct{ Attempt, Errors, WorkedBy int }
	rows, err := s.db.Pool.Query(context.Background(), `SELECT attempt, coalesce(array_length(errors, 1), 0),
		coalesce(array_length(attempted_by, 1), 0) FROM river_job WHERE kind = 'generate_photos'`)
	require.NoError(t, err)
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[job])
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(all), 30, "at least one job per subscriber")
	for _, j := range all {
		require.Equal(t, 1, j.Attempt, "no attempt burned, the stopped worker's included")
		require.Zero(t, j.Errors)
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	// A worker's health listener, not the api: the OpenAPI document does not describe it
	// (its answers carry no X-Request-Id), so this client is not checked against it.
	c := &demo.Client{BaseURL: base}
	require.Eventually(t, func() bool {
		resp, err := c.Do(context.Background(), http.MethodGet, "/readyz", nil, nil)
		return err == nil && resp.Status == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "%s never ready", base)
}

// TestAdminNeedsTheOperatorToken: River UI at /admin/river/ is reachable only with the
// operator token, and does not exist without one configured.
func TestAdminNeedsTheOperatorToken(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{}, map[string]string{"OPERATOR_TOKEN": "op-secret-token"})
	_, c := s.startAPI(t)
	ctx := context.Background()
	get := func(h http.Header) demo.Response {
		resp, err := c.Do(ctx, http.MethodGet, "/admin/river/", nil, h)
		require.NoError(t, err)
		return resp
	}
	resp := get(nil)
	require.Equal(t, http.StatusUnauthorized, resp.Status)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	require.Equal(t, http.StatusUnauthorized, get(http.Header{"Authorization": {"Bearer wrong"}}).Status)
	resp = get(http.Header{"Authorization": {"Bearer op-secret-token"}})
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, strings.ToLower(string(resp.Body)), "<html")
	req, _ := http.NewRequest(http.MethodGet, c.BaseURL+"/admin/river/api/jobs?state=available", nil)
	req.SetBasicAuth("ops", "op-secret-token")
	api, err := c.HTTP.Do(req)
	require.NoError(t, err)
	api.Body.Close()
	require.Equal(t, http.StatusOK, api.StatusCode, "River UI's API answers behind basic auth")

	other := newStack(t, fakereplicate.Config{}, nil)
	_, oc := other.startAPI(t)
	r, err := oc.Do(ctx, http.MethodGet, "/admin/river/", nil, http.Header{"Authorization": {"Bearer " + uuid.NewString()}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, r.Status, "no OPERATOR_TOKEN, no admin routes")
}
