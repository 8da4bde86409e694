package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// TestAbuseLimitOfTheBinary: `photogen api` as an operator gets it limits sign-ups per
// client address: one client from 127.0.0.2 past the limit gets 429 with Retry-After
// while another, from 127.0.0.3 at the same time, signs up as usual.
func TestAbuseLimitOfTheBinary(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{}, nil)
	_, c := s.startAPI(t)
	from := func(ip string) *demo.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &demo.Client{BaseURL: c.BaseURL, HTTP: &http.Client{Timeout: 30 * time.Second,
			Transport: checked(t, &http.Transport{DialContext: d.DialContext})}}
	}
	a, b := from("127.0.0.2"), from("127.0.0.3")
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	limited := map[string][]demo.Response{}
	signUp := func(name string, c *demo.Client, n int, pause time.Duration) {
		for i := range n {
			body := fmt.Sprintf(`{"email":"%s%d@example.com","strategy":{"prompt":"p"}}`, name, i)
			resp, err := c.Do(ctx, http.MethodPost, "/api/blueprint/subscribers", []byte(body), nil)
			require.NoError(t, err)
			require.Contains(t, []int{http.StatusCreated, http.StatusTooManyRequests}, resp.Status, "%s", resp.Body)
			if resp.Status == http.StatusTooManyRequests {
				mu.Lock()
				limited[name] = append(limited[name], resp)
				mu.Unlock()
			}
			time.Sleep(pause)
		}
	}
	began := time.Now()
	wg.Go(func() { signUp("a", a, 30, 0) })
	wg.Go(func() { signUp("b", b, 5, 50*time.Millisecond) })
	wg.Wait()
	// Ten at once, then one every 6 s.
	require.GreaterOrEqual(t, len(limited["a"]), 20-int(time.Since(began)/(6*time.Second)))
	require.Empty(t, limited["b"], "the other client is unaffected")
	r := limited["a"][0]
	require.Equal(t, "6", r.Header.Get("Retry-After"))
	require.JSONEq(t, `{"error":{"code":"rate_limited","message":"too many requests from this address; retry in 6 s"}}`, string(r.Body))
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	var n int
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM subscribers`).Scan(&n))
	require.Equal(t, 35-len(limited["a"]), n, "the refused sign-ups wrote nothing")
}
