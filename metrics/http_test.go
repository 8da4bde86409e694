package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

func TestGinMiddlewareLabelsByRouteTemplate(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	engine := gin.New()
	engine.Use(m.GinMiddleware())
	engine.GET("/photos/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	engine.POST("/generations", func(c *gin.Context) { c.Status(http.StatusCreated) })
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)

	for _, r := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/photos/secret-abc", http.StatusOK},
		{http.MethodGet, "/photos/secret-def", http.StatusOK},
		{http.MethodPost, "/generations", http.StatusCreated},
		{http.MethodGet, "/no/such/secret-route", http.StatusNotFound},
		{"BREW", "/photos/secret-ghi", http.StatusNotFound},
	} {
		req, err := http.NewRequestWithContext(t.Context(), r.method, srv.URL+r.path, nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, r.code, resp.StatusCode, "%s %s", r.method, r.path)
	}

	require.NoError(t, testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP photogen_http_requests_total HTTP requests served by the api, by route template, method and status code.
# TYPE photogen_http_requests_total counter
photogen_http_requests_total{code="200",method="GET",route="/photos/:id"} 2
photogen_http_requests_total{code="201",method="POST",route="/generations"} 1
photogen_http_requests_total{code="404",method="GET",route="unmatched"} 1
photogen_http_requests_total{code="404",method="OTHER",route="unmatched"} 1
`), "photogen_http_requests_total"))

	d := sample(t, m.Registry(), "photogen_http_request_duration_seconds",
		map[string]string{"route": "/photos/:id", "method": "GET"}).GetHistogram()
	require.Equal(t, uint64(2), d.GetSampleCount())
	require.Positive(t, d.GetSampleSum())
	n, err := testutil.GatherAndCount(m.Registry(), "photogen_http_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 4, n) // GET /photos/:id, POST /generations, GET unmatched, OTHER unmatched

	body := scrape(t, m.Handler())
	require.NotContains(t, body, "secret", "a raw path reached a label")
	require.NotContains(t, body, "BREW", "a raw method reached a label")
}
