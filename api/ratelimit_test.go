// The abuse limit: per client address, 429 with Retry-After and the JSON error body,
// another client unaffected; X-Forwarded-For believed only from a trusted proxy; the
// webhooks never limited. Two clients on the loopback: 127.0.0.2 and 127.0.0.3.

package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/internal/demo"
)

// clientFrom is a client whose connections come from ip, a loopback address.
func clientFrom(base, ip string) *demo.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &demo.Client{BaseURL: base, HTTP: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}}}
}

func signUp(t *testing.T, c *demo.Client, email string, h http.Header) demo.Response {
	t.Helper()
	body := `{"email":"` + email + `","strategy":{"prompt":"p"}}`
	resp, err := c.Do(context.Background(), http.MethodPost, "/api/blueprint/subscribers", []byte(body), h)
	require.NoError(t, err)
	return resp
}

func TestOneClientOverTheLimitOthersUnaffected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := clientFrom(e.url, "127.0.0.2"), clientFrom(e.url, "127.0.0.3")
	ctx := context.Background()

	// Sign-up: 10 at once, then one every 6 s.
	for i := range 10 {
		require.Equal(t, http.StatusCreated, signUp(t, a, fmt.Sprintf("a%d@example.com", i), nil).Status)
	}
	resp := signUp(t, a, "a10@example.com", nil)
	requireError(t, resp, http.StatusTooManyRequests, "rate_limited")
	require.Equal(t, "6", resp.Header.Get("Retry-After"))
	requireError(t, signUp(t, a, "a0@example.com", nil), http.StatusTooManyRequests, "rate_limited")
	require.Equal(t, http.StatusCreated, signUp(t, b, "b@example.com", nil).Status, "another client signs up")
	require.Equal(t, 11, e.count(t, "subscribers"), "a refused sign-up writes nothing")

	// Status and generate-paid with random tokens: one client floods, the other, at the
	// same time, is answered as usual.
	random := "Bearer " + strings.Repeat("R", 43)
	var wg sync.WaitGroup
	codes := map[string]map[int]int{"a": {}, "b": {}}
	var mu sync.Mutex
	hit := func(name string, c *demo.Client, n int, pause time.Duration) {
		for range n {
			r1, err := c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Authorization": {random}})
			require.NoError(t, err)
			r2, err := c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", []byte(`{"accessToken":"`+strings.Repeat("G", 43)+`"}`), nil)
			require.NoError(t, err)
			mu.Lock()
			codes[name][r1.Status]++
			codes[name][r2.Status]++
			mu.Unlock()
			if r1.Status == http.StatusTooManyRequests {
				require.NotEmpty(t, r1.Header.Get("Retry-After"))
				requireError(t, r1, http.StatusTooManyRequests, "rate_limited")
			}
			time.Sleep(pause)
		}
	}
	began := time.Now()
	for range 4 {
		wg.Go(func() { hit("a", a, 100, 0) })
	}
	wg.Go(func() { hit("b", b, 20, 10*time.Millisecond) })
	wg.Wait()
	// Bursts of 200 (status) and 100 (generate), then 20/s and 10/s.
	most := 200 + 100 + int(30*time.Since(began).Seconds()) + 2
	require.Positive(t, codes["a"][http.StatusTooManyRequests], "the flooding client is limited: %v", codes["a"])
	require.LessOrEqual(t, codes["a"][http.StatusNotFound], most, "at most the bursts and what refills: %v", codes["a"])
	require.Equal(t, map[int]int{http.StatusNotFound: 40}, codes["b"], "the other client is unaffected")
}

func TestForwardedForBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	// By default the socket's address counts: a rotating X-Forwarded-For changes nothing.
	e := newEnv(t)
	c := clientFrom(e.url, "127.0.0.2")
	for i := range 11 {
		resp := signUp(t, c, fmt.Sprintf("x%d@example.com", i), http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", i)}})
		if i < 10 {
			require.Equal(t, http.StatusCreated, resp.Status)
		} else {
			requireError(t, resp, http.StatusTooManyRequests, "rate_limited")
		}
	}

	// Behind a trusted proxy (127.0.0.2 here), each forwarded client has its own limit.
	e = newEnv(t, withConfig(func(c *api.Config) { c.TrustedProxies = []string{"127.0.0.2/32"} }))
	proxy := clientFrom(e.url, "127.0.0.2")
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {"198.51.100.99, " + ip}} }
	for i := range 10 {
		require.Equal(t, http.StatusCreated, signUp(t, proxy, fmt.Sprintf("p%d@example.com", i), from("203.0.113.1")).Status)
	}
	requireError(t, signUp(t, proxy, "p10@example.com", from("203.0.113.1")), http.StatusTooManyRequests, "rate_limited")
	require.Equal(t, http.StatusCreated, signUp(t, proxy, "q@example.com", from("203.0.113.2")).Status)
	// From an untrusted peer, X-Forwarded-For is not believed: naming the limited
	// address does not make this client limited.
	require.Equal(t, http.StatusCreated, signUp(t, clientFrom(e.url, "127.0.0.3"), "r@example.com", from("203.0.113.1")).Status)
}

func TestWebhooksHaveNoPerClientLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := clientFrom(e.url, "127.0.0.2")
	for range 300 {
		resp, err := c.SendWebhook(context.Background(), "whsec_wrong", []byte(`{"id":"evt_x","type":"x"}`), time.Now())
		require.NoError(t, err)
		requireError(t, resp, http.StatusBadRequest, "invalid_signature")
	}
}

func TestParseRateLimits(t *testing.T) {
	t.Parallel()
	def, err := api.ParseRateLimits("")
	require.NoError(t, err)
	require.Equal(t, api.RateLimits{
		"signup":   {Events: 10, Period: time.Minute, Burst: 10},
		"generate": {Events: 10, Period: time.Second, Burst: 100},
		"status":   {Events: 20, Period: time.Second, Burst: 200},
	}, def)
	got, err := api.ParseRateLimits("signup=30/1h, status=off")
	require.NoError(t, err)
	require.Equal(t, api.Rate{Events: 30, Period: time.Hour, Burst: 30}, got["signup"])
	require.Equal(t, api.Rate{}, got["status"])
	require.Equal(t, def["generate"], got["generate"])
	off, err := api.ParseRateLimits("off")
	require.NoError(t, err)
	for _, r := range off {
		require.Zero(t, r.Events)
	}
	for _, bad := range []string{"events=1/1s", "signup", "signup=10", "signup=0/1m", "signup=10/0s", "signup=10/1m:0", "signup=ten/1m"} {
		_, err := api.ParseRateLimits(bad)
		require.Error(t, err, bad)
	}
}
