// Regression tests for the headers every answer carries, and for /metrics, which is no
// longer on the api's port.

package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/internal/demo"
	"photogen/metrics"
)

func TestNoSniffEverywhereAndNoStoreOnTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	resp := e.post(t, "/api/blueprint/subscribers", `{"email":"h@example.com","strategy":{"prompt":"p"}}`)
	require.Equal(t, http.StatusCreated, resp.Status)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "the answer carries the access token")
	answers := []demo.Response{resp, e.post(t, "/api/blueprint/subscribers", `{`), e.post(t, "/api/blueprint/generate-paid", `{}`)}
	for _, path := range []string{"/healthz", "/nope", "/api/blueprint/status"} {
		r, err := e.c.Do(ctx, http.MethodGet, path, nil, nil)
		require.NoError(t, err)
		answers = append(answers, r)
	}
	for _, r := range answers {
		require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"), "status %d: %s", r.Status, r.Body)
	}
}

func TestMetricsAreNotOnTheAPIPort(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	e := newEnv(t, withParts(func(_ testing.TB, _ *env, o *api.Options) { o.Metrics = m }))
	resp, err := e.c.Do(context.Background(), http.MethodGet, "/metrics", nil, nil)
	require.NoError(t, err)
	requireError(t, resp, http.StatusNotFound, "not_found")
}
