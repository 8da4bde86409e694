// The api with its database gone: every route that needs PostgreSQL answers 503 with
// Retry-After and the JSON error, never 500, and answers again once it is back. The fault
// is real: the api's pool reaches PostgreSQL through a TCP proxy on loopback that the test
// closes (connections reset, new ones refused) and opens again on the same port.

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/generation"
	"photogen/internal/demo"
	"photogen/internal/testdb"
	"photogen/live"
	"photogen/store"
)

// tcpProxy forwards loopback connections to target until closed.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{addr: "127.0.0.1:0", target: target}
	p.open(t)
	t.Cleanup(p.close)
	return p
}

// open listens (again, on the same address after the first time) and forwards.
func (p *tcpProxy) open(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.mu.Lock()
	p.ln, p.addr, p.conns = ln, ln.Addr().String(), map[net.Conn]struct{}{}
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// close stops listening (new connections are refused) and resets every connection.
func (p *tcpProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.ln.Close()
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, as when the network resets it
		}
		_ = c.Close()
	}
}

func TestDatabaseGoneAnswers503WithRetryAfter(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(db.URL)
	require.NoError(t, err)
	proxy := newTCPProxy(t, net.JoinHostPort(pc.ConnConfig.Host, strconv.Itoa(int(pc.ConnConfig.Port))))
	host, port, _ := net.SplitHostPort(proxy.addr)
	pc.ConnConfig.Host = host
	p, _ := strconv.Atoi(port)
	pc.ConnConfig.Port = uint16(p)
	c := apiOn(t, pc)

	sub, err := c.CreateSubscriber(ctx, "gone@example.com", "p")
	require.NoError(t, err)
	bearer := http.Header{"Authorization": {"Bearer " + sub.AccessToken}}
	prediction := bigPrediction("p_gone", 100)
	requests := []struct {
		method, path string
		body         []byte
		header       http.Header
	}{
		{http.MethodPost, "/api/blueprint/subscribers", []byte(`{"email":"gone2@example.com","strategy":{"prompt":"p"}}`), nil},
		{http.MethodPost, "/api/blueprint/generate-paid", []byte(`{"accessToken":"` + sub.AccessToken + `"}`), nil},
		{http.MethodGet, "/api/blueprint/status", nil, bearer},
		{http.MethodGet, "/api/blueprint/events", nil, bearer},
		{http.MethodPost, "/webhooks/stripe", nil, nil}, // signed below
		{http.MethodPost, "/webhooks/replicate", prediction, signReplicate(prediction, time.Now())},
		{http.MethodGet, "/readyz", nil, nil},
	}

	proxy.close()
	for _, r := range requests {
		var resp demo.Response
		if r.path == "/webhooks/stripe" {
			resp, err = c.SendWebhook(ctx, secret, demo.CheckoutCompleted("evt_gone", sub.SubscriberID, "gone@example.com"), time.Now())
		} else {
			resp, err = c.Do(ctx, r.method, r.path, r.body, r.header)
		}
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s %s: %s", r.method, r.path, resp.Body)
		require.Equal(t, "5", resp.Header.Get("Retry-After"), "%s %s", r.method, r.path)
		var body struct {
			Error struct{ Code, Message string }
		}
		require.NoError(t, json.Unmarshal(resp.Body, &body), "%s %s: %s", r.method, r.path, resp.Body)
		want := "unavailable"
		if r.path == "/readyz" {
			want = "not_ready"
		}
		require.Equal(t, want, body.Error.Code, "%s %s", r.method, r.path)
	}

	proxy.open(t)
	require.Eventually(t, func() bool {
		_, err := c.CreateSubscriber(ctx, "back@example.com", "p")
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "the api never answered again once PostgreSQL was back")
	st, err := c.GetStatus(ctx, sub.AccessToken)
	require.NoError(t, err)
	require.Equal(t, "awaiting_payment", st.State)
}

// A row held past lock_timeout by a session that is stuck or gone (a vanished worker's,
// until PostgreSQL ends it) is a passing fault too: 503 with Retry-After, not 500.
func TestALockHeldPastLockTimeoutAnswers503(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	pc, err := pgxpool.ParseConfig(db.URL)
	require.NoError(t, err)
	// photogen's own is 10 s (cmd/photogen); 200 ms keeps the test short.
	pc.ConnConfig.RuntimeParams["lock_timeout"] = "200"
	c := apiOn(t, pc)
	sub, err := c.CreateSubscriber(ctx, "locked@example.com", "p")
	require.NoError(t, err)

	stuck, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = stuck.Rollback(ctx) }()
	_, err = stuck.Exec(ctx, `SELECT 1 FROM subscribers WHERE id = $1 FOR UPDATE`, sub.SubscriberID)
	require.NoError(t, err)

	resp, err := c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", []byte(`{"accessToken":"`+sub.AccessToken+`"}`), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s", resp.Body)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.Contains(t, string(resp.Body), `"code":"unavailable"`)

	require.NoError(t, stuck.Rollback(ctx))
	resp, err = c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", []byte(`{"accessToken":"`+sub.AccessToken+`"}`), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusPaymentRequired, resp.Status, "the lock gone, the answer is the usual one: %s", resp.Body)
}

// apiOn serves an api (Replicate's webhooks on) on a pool built from pc, and returns a
// client of it.
func apiOn(t *testing.T, pc *pgxpool.Config) *demo.Client {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	jobs, err := generation.NewInserter(pool)
	require.NoError(t, err)
	o := api.Options{Config: api.Config{WebhookSecret: secret}, Store: store.New(pool), Jobs: jobs,
		Logger: slog.New(slog.DiscardHandler), Events: live.NewHub()}
	withReplicateWebhooks(t, nil, &o)
	server, err := api.New(o)
	require.NoError(t, err)
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	return &demo.Client{BaseURL: srv.URL, HTTP: &http.Client{Timeout: 30 * time.Second}}
}
