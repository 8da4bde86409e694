package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// TestPaidCheckoutTo30PhotosUnderParallelRequests is the seed's race, made impossible:
// the same signed webhook 20 times and 100 generate-paid calls, all in parallel, give
// one job, 30 predictions and 30 photos, with never more than a batch in flight.
func TestPaidCheckoutTo30PhotosUnderParallelRequests(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 150 * time.Millisecond, Jitter: 100 * time.Millisecond, Seed: 7},
		nil) // PHOTO_BATCH_SIZE is 5 by default
	_, c := s.startAPI(t)
	s.startWorker(t)
	ctx := context.Background()

	sub, err := c.CreateSubscriber(ctx, "race@example.com", "a lighthouse at dusk")
	require.NoError(t, err)
	event := demo.CheckoutCompleted("evt_race_1", sub.SubscriberID, "race@example.com")
	generateBody, err := json.Marshal(map[string]string{"accessToken": sub.AccessToken})
	require.NoError(t, err)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		webhooks = map[int]int{}
		generate = map[int]int{}
		begin    = make(chan struct{})
	)
	for range 20 {
		wg.Go(func() {
			<-begin
			resp, err := c.SendWebhook(ctx, webhookSecret, event, time.Now())
			require.NoError(t, err)
			mu.Lock()
			webhooks[resp.Status]++
			mu.Unlock()
		})
	}
	for range 100 {
		wg.Go(func() {
			<-begin
			resp, err := c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", generateBody, nil)
			require.NoError(t, err)
			mu.Lock()
			generate[resp.Status]++
			mu.Unlock()
		})
	}
	close(begin)
	wg.Wait()
	require.Equal(t, map[int]int{http.StatusOK: 20}, webhooks, "every delivery is acknowledged")
	for code := range generate {
		// 402 before the webhook's transaction commits, 202 while generating, 200 once done.
		require.Contains(t, []int{http.StatusPaymentRequired, http.StatusAccepted, http.StatusOK}, code)
	}

	st := waitState(t, c, sub.AccessToken, "completed", 60*time.Second)
	require.Equal(t, 30, st.TotalPhotos)
	require.Len(t, st.PhotoURLs, 30)
	seen := map[string]bool{}
	for _, u := range st.PhotoURLs {
		require.False(t, seen[u], "photo stored twice: %s", u)
		seen[u] = true
	}

	// Once done, more calls and deliveries change nothing.
	resp, err := c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", generateBody, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	require.JSONEq(t, `{"success":true,"alreadyGenerated":true,"state":"completed","totalPhotos":30,"targetPhotos":30,"message":"all photos are ready"}`, string(resp.Body))
	resp, err = c.SendWebhook(ctx, webhookSecret, event, time.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)

	stats := s.fake.Stats()
	require.Equal(t, 30, stats.Created, "exactly 30 predictions paid for")
	require.LessOrEqual(t, stats.MaxInFlight, 5, "never more than a batch in flight")
	// Each slot is refilled as soon as its photo is kept, so whether all five were ever
	// in flight at the same instant depends on the machine's load: not asserted.

	var jobs, ledger, events int
	var stored int
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'subscriber_id' = $1`, sub.SubscriberID).Scan(&jobs))
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM predictions WHERE subscriber_id = $1`, sub.SubscriberID).Scan(&ledger))
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT jsonb_array_length(photo_urls) FROM subscribers WHERE id = $1`, sub.SubscriberID).Scan(&stored))
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM stripe_events`).Scan(&events))
	require.Equal(t, 1, jobs, "exactly one River job for the subscriber")
	require.Equal(t, 30, ledger, "the ledger holds 30 predictions")
	require.Equal(t, 30, stored)
	require.Equal(t, 1, events, "one inbox row for one event id")
}
