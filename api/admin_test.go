// Regression tests for the operator routes, with the real River UI: a browser that
// holds the operator's credentials cannot be driven by another site, and the UI cannot
// be framed.

package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"riverqueue.com/riverui"

	"photogen/api"
	"photogen/generation"
)

const operatorToken = "op-token-api-test"

func withRiverUI(t testing.TB, e *env, o *api.Options) {
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(e.jobs, nil), Prefix: "/admin/river", Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, ui.Start(ctx))
	o.Admin, o.Config.OperatorToken = ui, operatorToken
}

// cancelledJob inserts a generation job and cancels it: retrying it makes it available.
func cancelledJob(t *testing.T, e *env) int64 {
	t.Helper()
	ctx := context.Background()
	res, err := e.jobs.Insert(ctx, generation.GenerateArgs{SubscriberID: uuid.New()}, nil)
	require.NoError(t, err)
	_, err = e.jobs.JobCancel(ctx, res.Job.ID)
	require.NoError(t, err)
	return res.Job.ID
}

func jobState(t *testing.T, e *env, id int64) rivertype.JobState {
	t.Helper()
	job, err := e.jobs.JobGet(context.Background(), id)
	require.NoError(t, err)
	return job.State
}

func TestOperatorActionsRefusedFromAnotherSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withParts(withRiverUI))
	id := cancelledJob(t, e)
	retry := func(h http.Header) *http.Response {
		t.Helper()
		body := `{"ids":["` + strconv.FormatInt(id, 10) + `"]}`
		req, err := http.NewRequest(http.MethodPost, e.url+"/admin/river/api/jobs/retry", strings.NewReader(body))
		require.NoError(t, err)
		req.SetBasicAuth("ops", operatorToken)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	// What a page on another site makes a browser with cached credentials send.
	for _, h := range []http.Header{
		{"Content-Type": {"text/plain"}, "Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}},
		{"Content-Type": {"application/json"}, "Sec-Fetch-Site": {"same-site"}},
		{"Content-Type": {"text/plain"}, "Origin": {"https://evil.example"}},
		{"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {"null"}},
	} {
		require.Equal(t, http.StatusForbidden, retry(h).StatusCode, "%v", h)
	}
	// Without the browser's word that it is same-origin, only JSON is taken.
	for _, h := range []http.Header{{"Content-Type": {"text/plain"}}, {"Content-Type": {"multipart/form-data; boundary=x"}}, {}} {
		require.Equal(t, http.StatusUnsupportedMediaType, retry(h).StatusCode, "%v", h)
	}
	require.Equal(t, rivertype.JobStateCancelled, jobState(t, e, id), "nothing was retried")

	// River UI's own page (same origin; it sends some actions as text/plain), and a
	// script with JSON, are served.
	require.Equal(t, http.StatusOK, retry(http.Header{"Content-Type": {"text/plain;charset=UTF-8"}, "Sec-Fetch-Site": {"same-origin"}}).StatusCode)
	require.Equal(t, rivertype.JobStateAvailable, jobState(t, e, id))
	id = cancelledJob(t, e)
	require.Equal(t, http.StatusOK, retry(http.Header{"Content-Type": {"application/json"}}).StatusCode)
	require.Equal(t, rivertype.JobStateAvailable, jobState(t, e, id))
}

func TestOperatorPagesCannotBeFramed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withParts(withRiverUI))
	for _, h := range []http.Header{{"Authorization": {"Bearer " + operatorToken}}, nil} {
		resp, err := e.c.Do(context.Background(), http.MethodGet, "/admin/river/", nil, h)
		require.NoError(t, err)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		require.Equal(t, "frame-ancestors 'none'", resp.Header.Get("Content-Security-Policy"))
	}
}
