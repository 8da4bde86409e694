package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// TestStripeEventReplayFinishesAnUnmatchedPayment: Stripe's payment arrives before the
// subscriber exists and is kept unmatched. An operator finds it with `stripe-events list
// --outcome unmatched`, and once the subscriber exists `stripe-events replay` marks them
// paid and enqueues exactly one job, which makes their 30 photos. Replaying again changes
// nothing, and `generation list` finds them completed.
func TestStripeEventReplayFinishesAnUnmatchedPayment(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 20 * time.Millisecond}, nil)
	_, c := s.startAPI(t)
	s.startWorker(t)
	ctx := context.Background()
	email := fmt.Sprintf("late-%d@example.com", time.Now().UnixNano())
	resp, err := c.SendWebhook(ctx, webhookSecret, demo.CheckoutCompleted("evt_late", "", email), time.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)

	out, err := runCommand(t, s.env, "stripe-events", "list", "--outcome", "unmatched", "--json")
	require.NoError(t, err, out)
	var listed struct {
		Events []struct {
			EventID string `json:"event_id"`
			Email   string `json:"email"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &listed), out)
	require.Len(t, listed.Events, 1)
	require.Equal(t, "evt_late", listed.Events[0].EventID)
	require.Equal(t, email, listed.Events[0].Email)

	sub, err := c.CreateSubscriber(ctx, email, "a portrait")
	require.NoError(t, err)
	out, err = runCommand(t, s.env, "stripe-events", "replay", "evt_late")
	require.NoError(t, err, out)
	// The worker may have started the generation by the time the command reads it back.
	require.Regexp(t, `event evt_late \(checkout\.session\.completed\) replayed: applied, subscriber `+sub.SubscriberID+`, generation (queued|generating)`, out)
	requireThirtyUnique(t, waitState(t, c, sub.AccessToken, "completed", 30*time.Second))

	out, err = runCommand(t, s.env, "stripe-events", "replay", "evt_late")
	require.NoError(t, err, out)
	require.Contains(t, out, "event evt_late is already applied (subscriber "+sub.SubscriberID+"): nothing to replay")
	var jobs int
	require.NoError(t, s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'generate_photos'`).Scan(&jobs))
	require.Equal(t, 1, jobs)
	require.Equal(t, 30, s.fake.Stats().Created, "paid for once")

	out, err = runCommand(t, s.env, "generation", "list", "--state", "completed", "--json")
	require.NoError(t, err, out)
	require.Contains(t, out, `"subscriber_id": "`+sub.SubscriberID+`"`)
	out, err = runCommand(t, s.env, "stripe-events", "list", "--outcome", "unmatched")
	require.NoError(t, err, out)
	require.Equal(t, "no event matches\n", out)
}
