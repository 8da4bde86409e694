package checkout_test

import (
	"context"
	"crypto/sha256"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/checkout"
	"photogen/generation"
	"photogen/internal/demo"
	"photogen/internal/testdb"
	"photogen/store"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type fixture struct {
	db   *testdb.DB
	st   *store.Store
	jobs generation.Inserter
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	db := testdb.New(t)
	jobs, err := generation.NewInserter(db.Pool)
	require.NoError(t, err)
	return fixture{db: db, st: store.New(db.Pool), jobs: jobs}
}

// apply delivers body as the api does after verifying its signature.
func (f fixture) apply(t *testing.T, body []byte) checkout.Result {
	t.Helper()
	ev, err := checkout.Decode(body)
	require.NoError(t, err)
	res, err := checkout.Apply(context.Background(), f.st, f.jobs, ev, body)
	require.NoError(t, err)
	return res
}

func (f fixture) subscribe(t *testing.T, email string) uuid.UUID {
	t.Helper()
	hash := sha256.Sum256([]byte(email))
	id, err := f.st.CreateSubscriber(context.Background(), store.NewSubscriber{Email: email,
		Strategy: map[string]any{"prompt": "a portrait"}, AccessTokenHash: hash[:], TargetPhotos: 30})
	require.NoError(t, err)
	return id
}

// generateJobs counts the generate_photos jobs of the subscriber.
func (f fixture) generateJobs(t *testing.T, id uuid.UUID) int {
	t.Helper()
	var n int
	require.NoError(t, f.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
		WHERE kind = 'generate_photos' AND args->>'subscriber_id' = $1`, id.String()).Scan(&n))
	return n
}

func (f fixture) outcome(t *testing.T, eventID string) (string, *uuid.UUID) {
	t.Helper()
	var outcome string
	var sub *uuid.UUID
	require.NoError(t, f.db.Pool.QueryRow(context.Background(),
		`SELECT outcome, subscriber_id FROM stripe_events WHERE event_id = $1`, eventID).Scan(&outcome, &sub))
	return outcome, sub
}

// TestReplayPaysAnUnmatchedPaymentOnce: a payment that arrived before its subscriber
// existed is kept unmatched; replayed once the subscriber exists, it marks them paid and
// enqueues exactly one job, with the inbox row now applied to them; a second replay, or
// Stripe delivering the event again, changes nothing.
func TestReplayPaysAnUnmatchedPaymentOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	body := demo.CheckoutCompleted("evt_late", uuid.NewString(), "late@example.com") // a reference to no subscriber
	require.Equal(t, store.OutcomeUnmatched, f.apply(t, body).Outcome)

	_, err := checkout.Replay(ctx, f.st, f.jobs, "evt_late")
	require.ErrorIs(t, err, checkout.ErrStillUnmatched, "no subscriber yet")
	outcome, sub := f.outcome(t, "evt_late")
	require.Equal(t, "unmatched", outcome)
	require.Nil(t, sub)

	id := f.subscribe(t, "Late@Example.com")
	res, err := checkout.Replay(ctx, f.st, f.jobs, "evt_late")
	require.NoError(t, err)
	require.True(t, res.Changed)
	require.Equal(t, store.OutcomeUnmatched, res.Before)
	require.Equal(t, store.OutcomeApplied, res.Outcome)
	require.Equal(t, id, *res.SubscriberID)
	s, err := f.st.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusQueued, s.Status)
	require.NotNil(t, s.PaidAt)
	require.Equal(t, 1, f.generateJobs(t, id))
	outcome, sub = f.outcome(t, "evt_late")
	require.Equal(t, "applied", outcome)
	require.Equal(t, id, *sub)

	again, err := checkout.Replay(ctx, f.st, f.jobs, "evt_late")
	require.NoError(t, err)
	require.False(t, again.Changed)
	require.Equal(t, store.OutcomeApplied, again.Before)
	require.True(t, f.apply(t, body).Duplicate, "Stripe delivering it again")
	require.Equal(t, 1, f.generateJobs(t, id))
	paid, err := f.st.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, s.PaidAt, paid.PaidAt)
}

// TestConcurrentReplaysApplyOnce: replays of one event at once wait on each other;
// exactly one applies it.
func TestConcurrentReplaysApplyOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.apply(t, demo.CheckoutCompleted("evt_race", "", "race@example.com"))
	id := f.subscribe(t, "race@example.com")
	var wg sync.WaitGroup
	results := make(chan checkout.Replayed, 8)
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			res, err := checkout.Replay(context.Background(), f.st, f.jobs, "evt_race")
			results <- res
			errs <- err
		})
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n := 0
	for res := range results {
		if res.Changed {
			n++
		}
	}
	require.Equal(t, 1, n)
	require.Equal(t, 1, f.generateJobs(t, id))
}

func TestReplayLeavesOtherEventsAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := checkout.Replay(ctx, f.st, f.jobs, "evt_nope")
	require.ErrorIs(t, err, checkout.ErrUnknownEvent)

	f.apply(t, []byte(`{"id":"evt_other","type":"customer.created","data":{"object":{}}}`))
	res, err := checkout.Replay(ctx, f.st, f.jobs, "evt_other")
	require.NoError(t, err)
	require.False(t, res.Changed)
	require.Equal(t, store.OutcomeIgnored, res.Outcome)

	// A payment and its refund, both arrived before the subscriber existed: replayed in
	// order, the payment records the payment intent the refund is matched by.
	f.apply(t, demo.CheckoutCompleted("evt_paid", "", "paid@example.com"))
	refund := demo.ChargeRefunded("evt_refund", demo.PaymentIntent("evt_paid"))
	require.Equal(t, store.OutcomeUnmatched, f.apply(t, refund).Outcome)
	id := f.subscribe(t, "paid@example.com")
	_, err = checkout.Replay(ctx, f.st, f.jobs, "evt_paid")
	require.NoError(t, err)
	res, err = checkout.Replay(ctx, f.st, f.jobs, "evt_refund")
	require.NoError(t, err)
	require.True(t, res.Changed)
	require.Equal(t, store.OutcomeRefunded, res.Outcome)
	s, err := f.st.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusRefunded, s.Status)
}
