package e2e

// This file is issue 18's PostgreSQL line: the database stops mid-generation while real
// api requests keep coming, and starts again; work must resume within 5 s of it accepting
// connections, and the api must never answer 500 meanwhile.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
)

// outageLength is how long postgresRestarted keeps PostgreSQL down: long enough for every
// process to notice and for many api requests to meet the outage.
const outageLength = 10 * time.Second

// postgresRestarted stops the test's own cluster once 5 photos are in, keeps it down for
// outageLength while hammering the api, starts it, and measures how long after it accepted
// connections the worker created its next prediction.
func postgresRestarted(t *testing.T, table *faultTable) {
	cl := newCluster(t)
	url := cl.createDatabase(t, "photogen")
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := newStack(t, fakereplicate.Config{Latency: 300 * time.Millisecond}, nil)
	s.env["DATABASE_URL"] = url
	s.db = &testdb.DB{URL: url, Pool: pool}
	start(t, "migrate", s.env).Wait(t, 60*time.Second)
	_, c := s.startAPI(t)
	s.startWorker(t)
	subs := paySubscribers(t, c, 3)
	require.Eventually(t, func() bool {
		st, err := c.GetStatus(context.Background(), subs[0].AccessToken)
		return err == nil && st.TotalPhotos >= 5
	}, 30*time.Second, 20*time.Millisecond)

	cl.ctl(t, "stop")
	answers := hammer(t, c, subs[0].AccessToken)
	time.Sleep(outageLength)
	cl.ctl(t, "start") // -w: returns once the server accepts connections
	accepted := time.Now()
	counted := answers()
	r := faultRow{fault: fmt.Sprintf("PostgreSQL down %s mid-generation, 3 subscribers", outageLength),
		measure: "accepting connections -> next creation or photo", bound: 5 * time.Second}
	r.recovered = firstProgressAfter(t, s, accepted, 2*time.Minute)
	settle(t, s, c, subs, 3*time.Minute, &r)
	r.note = "api answers meanwhile: " + fmt.Sprint(counted)
	table.add(r)
	r.check(t)
	assert.Zero(t, counted["500"], "no 500 from the api while PostgreSQL is down: %v", counted)
	assert.Zero(t, counted["503 without Retry-After"], "a 503 says when to retry: %v", counted)
	assert.Zero(t, counted["no answer"], "every request answered: %v", counted)
	assert.Positive(t, len(counted), "requests were sent during the outage")
}

// hammer sends real api requests (a sign-up from an address of its own, the status of
// token, generate-paid for it) from 3 goroutines until the returned function is called,
// which returns the answers counted by status code ("no answer" when none came within
// 10 s, "503 without Retry-After" apart).
func hammer(t *testing.T, c *demo.Client, token string) func() map[string]int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	counted := map[string]int{}
	count := func(resp demo.Response, err error) {
		key := strconv.Itoa(resp.Status)
		switch {
		case ctx.Err() != nil:
			return // stopped while under way: not an answer of the outage
		case err != nil:
			key = "no answer"
		case resp.Status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "":
			key = "503 without Retry-After"
		}
		mu.Lock()
		counted[key]++
		mu.Unlock()
	}
	bearer := http.Header{"Authorization": {"Bearer " + token}}
	requests := []func(context.Context) (demo.Response, error){
		func(ctx context.Context) (demo.Response, error) {
			body := fmt.Appendf(nil, `{"email":"outage-%d@example.com","strategy":{"prompt":"a portrait"}}`, time.Now().UnixNano())
			own := fromOwnAddress(t, c)
			defer own.HTTP.CloseIdleConnections()
			return own.Do(ctx, http.MethodPost, "/api/blueprint/subscribers", body, nil)
		},
		func(ctx context.Context) (demo.Response, error) {
			return c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, bearer)
		},
		func(ctx context.Context) (demo.Response, error) {
			return c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", []byte(`{"accessToken":"`+token+`"}`), nil)
		},
	}
	var wg sync.WaitGroup
	for _, send := range requests {
		wg.Go(func() {
			for ctx.Err() == nil {
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				count(send(rctx))
				rcancel()
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	return func() map[string]int {
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return counted
	}
}
