package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/internal/testdb"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startAPI runs `photogen api` in-process on a database of its own with vars on top of
// what it requires, until the test ends; it returns once /healthz answers.
func startAPI(t *testing.T, vars map[string]string) map[string]string {
	t.Helper()
	db := testdb.New(t)
	env := map[string]string{
		"DATABASE_URL": db.URL, "STRIPE_WEBHOOK_SECRET": "whsec_cmd_test", "PHOTO_NAME_SECRET": "0123456789abcdef",
		"STORAGE_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "METRICS_ADDR": freeAddr(t), "LOG_LEVEL": "warn",
	}
	for k, v := range vars {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"api"}, getenv(env), io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + env["HTTP_ADDR"] + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond)
	return env
}

// TestMetricsOnTheirOwnListener: /metrics is served on METRICS_ADDR, not on HTTP_ADDR.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Parallel()
	env := startAPI(t, nil)
	resp, err := http.Get("http://" + env["HTTP_ADDR"] + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = http.Get("http://" + env["METRICS_ADDR"] + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "photogen_http_requests_total")
}

// TestConnectionCap: connections over HTTP_MAX_CONNECTIONS wait until one closes.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	// A cap of 4 rather than the default 1024, so that the test holds it with 4 sockets.
	env := startAPI(t, map[string]string{"HTTP_MAX_CONNECTIONS": "4"})
	get := func(conn net.Conn) error {
		_ = conn.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	var held []net.Conn
	for range 4 {
		conn, err := net.Dial("tcp", env["HTTP_ADDR"])
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		require.NoError(t, get(conn), "under the cap")
		held = append(held, conn)
	}
	extra, err := net.Dial("tcp", env["HTTP_ADDR"]) // accepted by the kernel, not served
	require.NoError(t, err)
	defer extra.Close()
	_, err = io.WriteString(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	r := bufio.NewReader(extra)
	_ = extra.SetReadDeadline(time.Now().Add(time.Second))
	_, err = r.ReadByte()
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "a fifth connection waits while four are open")
	held[0].Close()
	_ = extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err, "served once a connection closes")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestIdleConnectionsClosedWithinAMinute: keep-alive connections idle at most 60 s, on
// every listener.
func TestIdleConnectionsClosedWithinAMinute(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	require.Positive(t, srv.IdleTimeout)
	require.LessOrEqual(t, srv.IdleTimeout, 60*time.Second)
	c, err := loadConfig(getenv(nil), usesDatabase)
	require.NoError(t, err)
	require.Equal(t, 1024, c.MaxConnections, "a cap by default")
	require.Equal(t, "127.0.0.1:9091", c.MetricsAddr, "metrics on the loopback by default")
}

// TestAbuseLimitSettings: the per-address limits are on by default, X-Forwarded-For is
// believed from no one, and bad values are configuration errors.
func TestAbuseLimitSettings(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(getenv(nil), usesDatabase)
	require.NoError(t, err)
	def, err := api.ParseRateLimits(api.DefaultRateLimits)
	require.NoError(t, err)
	require.Equal(t, def, c.API.RateLimits)
	require.Empty(t, c.API.TrustedProxies)
	c, err = loadConfig(getenv(map[string]string{"RATE_LIMITS": "signup=5/1m", "TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"}), usesDatabase)
	require.NoError(t, err)
	require.Equal(t, api.Rate{Events: 5, Period: time.Minute, Burst: 5}, c.API.RateLimits["signup"])
	require.Equal(t, []string{"10.0.0.0/8", "192.0.2.1"}, c.API.TrustedProxies)
	_, err = loadConfig(getenv(map[string]string{"RATE_LIMITS": "signup=lots", "TRUSTED_PROXIES": "the lb",
		"STRIPE_WEBHOOK_SECRET": "whsec_x", "PHOTO_NAME_SECRET": "0123456789abcdef"}), usesDatabase|usesAPI)
	require.ErrorContains(t, err, "RATE_LIMITS")
	require.ErrorContains(t, err, "TRUSTED_PROXIES")
}

// TestCORSSettings: no origin by default; a list is read with its spaces trimmed; every bad
// origin is reported at once, with the other settings' errors.
func TestCORSSettings(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(getenv(nil), usesDatabase)
	require.NoError(t, err)
	require.Empty(t, c.API.CORSOrigins)
	ok := map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_x", "PHOTO_NAME_SECRET": "0123456789abcdef",
		"CORS_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:5173"}
	c, err = loadConfig(getenv(ok), usesDatabase|usesAPI)
	require.NoError(t, err)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, c.API.CORSOrigins)
	bad := map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_x", "PHOTO_NAME_SECRET": "0123456789abcdef",
		"CORS_ALLOWED_ORIGINS": "https://app.example.com/, *, ftp://x.example.com,https://ok.example.com", "TRUSTED_PROXIES": "the lb"}
	_, err = loadConfig(getenv(bad), usesDatabase|usesAPI)
	require.ErrorContains(t, err, `"https://app.example.com/"`)
	require.ErrorContains(t, err, `"*"`)
	require.ErrorContains(t, err, `"ftp://x.example.com"`)
	require.NotContains(t, err.Error(), "ok.example.com")
	require.ErrorContains(t, err, "TRUSTED_PROXIES")
}
