// The status cache against a real database and real requests: answers kept until their
// subscriber's notice, parallel pollers that never see an answer go back while photos are
// appended, two api processes that agree as soon as their listeners hear a change, and a
// listener that reconnects after a change it missed.

package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/internal/demo"
	"photogen/internal/testdb"
	"photogen/metrics"
	"photogen/store"
)

// counter returns the value of counter family name with label values labels ("k", "v"...).
func counter(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for i, l := range s.GetLabel() {
				if 2*i+1 >= len(labels) || l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
					continue series
				}
			}
			return s.GetCounter().GetValue()
		}
	}
	require.Failf(t, "no series", "%s %v", name, labels)
	return 0
}

// status polls once and returns the answer, decoded: 200 or the test fails.
func status(t *testing.T, c *demo.Client, token string) demo.Status {
	t.Helper()
	st, err := c.GetStatus(context.Background(), token)
	require.NoError(t, err)
	require.Len(t, st.PhotoURLs, st.TotalPhotos)
	return st
}

// raw polls once and returns the answer as sent.
func raw(t *testing.T, c *demo.Client, token string, header ...string) demo.Response {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	resp, err := c.Do(context.Background(), http.MethodGet, "/api/blueprint/status", nil, h)
	require.NoError(t, err)
	return resp
}

// pollFreely lifts the status limit: these tests poll from one address as fast as they
// can, to put reads across changes; the limit has tests of its own (ratelimit_test.go).
func pollFreely(c *api.Config) { c.RateLimits, _ = api.ParseRateLimits("status=off") }

// cachedSubscriber serves one api on a database of its own and returns it, with a
// generating subscriber of photos photos whose answer it keeps.
func cachedSubscriber(t *testing.T, photos int) (*apiProcess, *eventsEnv, uuid.UUID, string) {
	t.Helper()
	db := testdb.New(t)
	a := serveWithEvents(t, db, pollFreely, nil)
	e := &eventsEnv{db: db}
	id, token := e.subscriber(t, 30, photos)
	warm(t, a, token)
	return a, e, id, token
}

// warm polls until an answer comes from memory: the listener listens and the answer is kept.
func warm(t *testing.T, a *apiProcess, token string) {
	t.Helper()
	require.Eventually(t, func() bool {
		before := counter(t, a.m, "photogen_status_cache_hits_total")
		status(t, a.c, token)
		return counter(t, a.m, "photogen_status_cache_hits_total") > before
	}, 10*time.Second, 5*time.Millisecond, "no answer from memory")
}

func TestStatusCacheKeepsAnswersUntilTheirChange(t *testing.T) {
	t.Parallel()
	a, e, id, token := cachedSubscriber(t, 2)
	_, other := e.subscriber(t, 30, 5)
	warm(t, a, other)
	require.Equal(t, 2, status(t, a.c, token).TotalPhotos)
	resp := raw(t, a.c, token)
	require.Equal(t, http.StatusOK, resp.Status)

	// 16 clients at once, 50 polls each: every answer is the same, from memory.
	hits := counter(t, a.m, "photogen_status_cache_hits_total")
	misses := counter(t, a.m, "photogen_status_cache_misses_total")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				r := raw(t, a.c, token)
				require.Equal(t, http.StatusOK, r.Status)
				require.Equal(t, string(resp.Body), string(r.Body))
				require.Equal(t, resp.Header.Get("ETag"), r.Header.Get("ETag"))
			}
		})
	}
	wg.Wait()
	require.Equal(t, hits+800, counter(t, a.m, "photogen_status_cache_hits_total"))
	require.Equal(t, misses, counter(t, a.m, "photogen_status_cache_misses_total"))

	// A 304 comes from memory too.
	hits = counter(t, a.m, "photogen_status_cache_hits_total")
	require.Equal(t, http.StatusNotModified, raw(t, a.c, token, "If-None-Match", resp.Header.Get("ETag")).Status)
	require.Equal(t, hits+1, counter(t, a.m, "photogen_status_cache_hits_total"))

	// A change drops that subscriber's answer, and only that one.
	drops := counter(t, a.m, "photogen_status_cache_drops_total", "reason", "change")
	e.addPhoto(t, id)
	require.Eventually(t, func() bool {
		return status(t, a.c, token).TotalPhotos == 3
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, drops+1, counter(t, a.m, "photogen_status_cache_drops_total", "reason", "change"))
	hits = counter(t, a.m, "photogen_status_cache_hits_total")
	require.Equal(t, 5, status(t, a.c, other).TotalPhotos)
	require.Equal(t, hits+1, counter(t, a.m, "photogen_status_cache_hits_total"), "the other subscriber's answer stays")

	// A change the page does not show but the status does (updated_at alone, as a repeated
	// payment makes) drops it too.
	before := status(t, a.c, token)
	e.exec(t, `UPDATE subscribers SET updated_at = updated_at + interval '1 hour' WHERE id = $1`, id)
	require.Eventually(t, func() bool {
		return status(t, a.c, token).UpdatedAt != before.UpdatedAt
	}, 5*time.Second, time.Millisecond)
}

// TestStatusCacheNeverGoesBack: 16 clients poll one subscriber as fast as they can while
// its 30 photos are appended one commit at a time. A read that began before an append and
// ended after its notice must not be kept: a later poll would then see fewer photos than
// an earlier one, which reading the database each time never shows.
func TestStatusCacheNeverGoesBack(t *testing.T) {
	t.Parallel()
	a, e, id, token := cachedSubscriber(t, 0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			seen := 0
			for {
				n := status(t, a.c, token).TotalPhotos
				require.GreaterOrEqual(t, n, seen, "an answer went back")
				seen = n
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	for range 30 {
		e.addPhoto(t, id)
		time.Sleep(5 * time.Millisecond) // some polls between appends, and some across them
	}
	require.Eventually(t, func() bool {
		st := status(t, a.c, token)
		return st.TotalPhotos == 30 && st.State == "completed"
	}, 5*time.Second, time.Millisecond)
	close(done)
	wg.Wait()
	for range 100 {
		require.Equal(t, 30, status(t, a.c, token).TotalPhotos)
	}
	require.Positive(t, counter(t, a.m, "photogen_status_cache_hits_total"))
}

// TestStatusCacheTwoAPIsAgree: two api processes on one database, each with its answers in
// memory; a payment through one is seen by the other as soon as its listener hears it.
func TestStatusCacheTwoAPIsAgree(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	one, two := serveWithEvents(t, db, pollFreely, nil), serveWithEvents(t, db, pollFreely, nil)
	ctx := context.Background()
	sub, err := one.c.CreateSubscriber(ctx, "two@example.com", "p")
	require.NoError(t, err)
	warm(t, one, sub.AccessToken)
	warm(t, two, sub.AccessToken)
	require.Equal(t, "awaiting_payment", status(t, two.c, sub.AccessToken).State)

	paid := time.Now()
	resp, err := one.c.SendWebhook(ctx, secret, demo.CheckoutCompleted("evt_two", sub.SubscriberID, "two@example.com"), time.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	for _, a := range []*apiProcess{two, one} {
		require.Eventually(t, func() bool {
			st := status(t, a.c, sub.AccessToken)
			return st.State == "queued" && st.Paid
		}, 5*time.Second, time.Millisecond)
	}
	t.Logf("both api processes answered the payment %s after it was sent", time.Since(paid))
	require.Positive(t, counter(t, two.m, "photogen_status_cache_drops_total", "reason", "change"))
}

// TestStatusCacheListenerReconnects: the listener's connection is killed and the
// subscriber changes before it is back; nothing kept before is served after.
func TestStatusCacheListenerReconnects(t *testing.T) {
	t.Parallel()
	a, e, id, token := cachedSubscriber(t, 1)
	db := e.db
	listener := `SELECT pid, backend_start FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN ` + store.SubscriberChannel + `'`
	var pid int
	var started time.Time
	require.NoError(t, db.Pool.QueryRow(context.Background(), listener).Scan(&pid, &started))
	// The listener may come back before the change commits (its first reconnect is
	// immediate): then the change is heard as usual and proves nothing here, so the kill
	// and the change are repeated, with an answer kept again, until the change lands while
	// the listener is away.
	photos, away := 1, false
	for try := 0; try < 20 && !away; try++ {
		if try > 0 {
			warm(t, a, token)
		}
		e.exec(t, `SELECT pg_terminate_backend($1)`, pid)
		var changed time.Time
		require.NoError(t, db.Pool.QueryRow(context.Background(), `UPDATE subscribers SET photo_urls = photo_urls || '["https://photos.example.com/x.png"]'
		WHERE id = $1 RETURNING clock_timestamp()`, id).Scan(&changed))
		photos++
		require.Eventually(t, func() bool {
			return db.Pool.QueryRow(context.Background(), listener).Scan(&pid, &started) == nil
		}, 10*time.Second, 5*time.Millisecond, "the listener did not come back")
		away = started.After(changed)
	}
	require.True(t, away, "the change must be made while the listener is away")
	require.Eventually(t, func() bool {
		return counter(t, a.m, "photogen_status_cache_drops_total", "reason", "reconnect") >= 1
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, photos, status(t, a.c, token).TotalPhotos, "the change made while the listener was away")
	warm(t, a, token) // and answers are kept again
}
