package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// TestRequestLogLevels: a polled route's successes are logged at debug, its failures and
// every other route's requests at info, each line with the route and the status.
func TestRequestLogLevels(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := gin.New()
	r.Use(requestLog(logger, "/polled"))
	r.GET("/polled", func(c *gin.Context) {
		if c.Query("fail") != "" {
			c.Status(http.StatusUnauthorized)
			return
		}
		if c.Query("same") != "" {
			c.Status(http.StatusNotModified)
			return
		}
		c.Status(http.StatusOK)
	})
	r.POST("/other", func(c *gin.Context) { c.Status(http.StatusAccepted) })

	for _, tc := range []struct {
		method, target string
		status         int
		level          string
	}{
		{http.MethodGet, "/polled", http.StatusOK, "DEBUG"},
		{http.MethodGet, "/polled?same=1", http.StatusNotModified, "DEBUG"},
		{http.MethodGet, "/polled?fail=1", http.StatusUnauthorized, "INFO"},
		{http.MethodPost, "/other", http.StatusAccepted, "INFO"},
		{http.MethodGet, "/nowhere", http.StatusNotFound, "INFO"},
	} {
		out.Reset()
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		require.Equal(t, tc.status, rec.Code, tc.target)
		var line map[string]any
		require.NoError(t, json.Unmarshal(out.Bytes(), &line), "%s: one JSON line, got %q", tc.target, out.String())
		require.Equal(t, tc.level, line["level"], tc.target)
		require.Equal(t, "request", line["msg"], tc.target)
		require.EqualValues(t, tc.status, line["status"], tc.target)
		require.NotEmpty(t, line["request_id"], tc.target)
	}

	out.Reset()
	quiet := slog.New(slog.NewJSONHandler(&out, nil)) // info, the default
	r = gin.New()
	r.Use(requestLog(quiet, "/polled"))
	r.GET("/polled", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/polled", nil))
	require.Empty(t, out.String(), "a polled route's success is not logged at info")
}
