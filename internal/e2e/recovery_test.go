package e2e

// This file holds what issue 18's fault scenarios share: the row each one measures (the
// fault, how long photogen took to recover from its end, what it cost), the table
// `make chaos` prints, and the measurements themselves (when the generations completed,
// when work resumed, what was paid). The scenarios that are fast once the service
// recovers as it should (lost webhooks, a PostgreSQL restart, webhook sizes) run in
// `make test` too (faults_test.go calls them); the long ones are in chaos_faults_test.go.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
)

// faultRow is one line of the infrastructure faults' table: the fault, how long after its
// end photogen recovered (what "recovered" means is the row's measure), the acceptance
// bound of that figure, and the predictions paid per photo delivered.
type faultRow struct {
	fault     string
	measure   string        // what recovered counts, e.g. "last fault healed -> all completed"
	recovered time.Duration // negative when it never recovered within the test's patience
	bound     time.Duration
	created   int // predictions created at the provider
	photos    int // photos delivered
	failed    int // predictions that ended failed or cancelled (paid, and legitimately re-made)
	note      string
}

// waste is what was paid beyond the photos and the failures: predictions paid twice.
func (r faultRow) waste() int { return r.created - r.photos - r.failed }

// faultTable collects rows from parallel scenarios. A nil table drops them (a scenario
// run alone by `make test` asserts and reports nothing else).
type faultTable struct {
	mu   sync.Mutex
	rows []faultRow
}

// add records r; safe for concurrent use, and a no-op on a nil table.
func (ft *faultTable) add(r faultRow) {
	if ft == nil {
		return
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.rows = append(ft.rows, r)
}

// print writes the table: fault, time to recover against its bound, predictions per photo.
func (ft *faultTable) print(w io.Writer) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "fault\trecovered\tbound\tmeasured from -> to\tphotos\tpredictions\tper photo\twaste\tnote\t")
	for _, r := range ft.rows {
		rec := took(r.recovered)
		per := 0.0
		if r.photos > 0 {
			per = float64(r.created) / float64(r.photos)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.3f\t%d\t%s\t\n", r.fault, rec, r.bound, r.measure, r.photos, r.created, per, r.waste(), r.note)
	}
	tw.Flush()
}

// took formats a recovery time: rounded to 0.1 s, or "never" when negative.
func took(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(100 * time.Millisecond).String()
}

// check asserts r's acceptance: recovered within its bound, nothing paid twice. It uses
// assert, not require, so that every figure of a scenario is checked and reported.
func (r faultRow) check(t *testing.T) {
	t.Helper()
	t.Logf("%s: recovered %s (bound %s), %d photos, %d predictions, %d failed, %s", r.fault, took(r.recovered), r.bound, r.photos, r.created, r.failed, r.note)
	assert.True(t, r.recovered >= 0 && r.recovered <= r.bound, "%s: recovered %s (%s), bound %s", r.fault, took(r.recovered), r.measure, r.bound)
	assert.Zero(t, r.waste(), "%s: predictions paid beyond the photos and the failures", r.fault)
}

// settle waits (up to patience) for every subscriber to complete with 30 unique photos,
// then returns when the last one completed (subscribers.generated_at, PostgreSQL's clock,
// the same machine's), and fills r's photos, created and failed. A subscriber still not
// complete after patience fails t, and the time returned is then the zero time (since
// makes it "never").
func settle(t *testing.T, s *stack, c *demo.Client, subs []demo.Subscriber, patience time.Duration, r *faultRow) time.Time {
	t.Helper()
	deadline := time.Now().Add(patience)
	all := true
	for _, sub := range subs {
		st := waitComplete(t, c, sub.AccessToken, time.Until(deadline))
		r.photos += st.TotalPhotos
		if st.State != "completed" {
			t.Errorf("subscriber %s not completed after %s: %+v", sub.SubscriberID, patience, st)
			all = false
		}
	}
	for _, got := range ledgerCounts(t, s.db.Pool) {
		r.failed += got[1]
	}
	r.created = s.fake.Stats().Created
	var last time.Time
	require.NoError(t, s.db.Pool.QueryRow(context.Background(),
		`SELECT coalesce(max(generated_at), 'epoch') FROM subscribers`).Scan(&last))
	if !all {
		return time.Time{}
	}
	return last
}

// waitComplete polls the status until completed (checking the 30 photos then) or within
// runs out, and returns the last status seen; it fails nothing itself.
func waitComplete(t *testing.T, c *demo.Client, token string, within time.Duration) demo.Status {
	t.Helper()
	var last demo.Status
	for end := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		st, err := c.GetStatus(context.Background(), token)
		if err == nil {
			last = st
			if st.State == "completed" {
				requireThirtyUnique(t, st)
				return st
			}
		}
		if time.Now().After(end) {
			return last
		}
	}
}

// since is last − from, or -1 when last is not after the epoch (nothing completed).
func since(last, from time.Time) time.Duration {
	if last.Unix() <= 0 {
		return -1
	}
	return max(last.Sub(from), 0)
}

// firstProgressAfter returns how long after from work moved on (the fake counted a
// creation beyond what it had at from, or a photo was appended), waiting at most patience
// (then -1): the moment work resumed.
func firstProgressAfter(t *testing.T, s *stack, from time.Time, patience time.Duration) time.Duration {
	t.Helper()
	progress := func() int {
		var photos int
		if err := s.db.Pool.QueryRow(context.Background(),
			`SELECT coalesce(sum(jsonb_array_length(photo_urls)), 0) FROM subscribers`).Scan(&photos); err != nil {
			return -1 // the database is not back yet for the test either
		}
		return s.fake.Stats().Created + photos
	}
	base := progress()
	for ; base < 0 && time.Since(from) < patience; base = progress() {
		time.Sleep(10 * time.Millisecond)
	}
	for end := from.Add(patience); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if progress() > base {
			return time.Since(from)
		}
	}
	return -1
}

// webhooksLost is issue 18's lost-webhooks line: 30% of Replicate's completed webhooks never
// arrive, the model takes 1 s, 5 subscribers pay: all complete within 30 s of the payments,
// with exactly 150 predictions.
func webhooksLost(t *testing.T, table *faultTable) {
	s := newStack(t, fakereplicate.Config{Latency: time.Second, WebhookDropRate: 0.3, Seed: 11}, nil)
	_, c := s.startAPI(t)
	s.startWorker(t)
	subs := paySubscribers(t, c, 5)
	paid := time.Now()
	r := faultRow{fault: "30% of webhooks lost, 1 s model, 5 subscribers", measure: "last payment -> all completed", bound: 30 * time.Second}
	if table == nil {
		// In `make test` this runs under the race detector beside the whole suite on 2
		// cores, where one run took 43 s: the acceptance figure (30 s) is make chaos's
		// (table != nil); here the bound only catches a return to the 30 s check (94 s).
		r.bound = 60 * time.Second
	}
	r.recovered = since(settle(t, s, c, subs, 3*time.Minute, &r), paid)
	r.note = fmt.Sprintf("%d webhooks dropped, %d GETs", s.fake.Webhooks().Dropped, s.fake.Calls().Get.Calls)
	table.add(r)
	r.check(t)
	assert.Equal(t, 150, r.created, "exactly 150 predictions")
	assert.Positive(t, s.fake.Webhooks().Dropped, "webhooks were lost")
}

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
	waitPhotos(t, c, subs[0].AccessToken, 5)

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
