package operator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/checkout"
	"photogen/generation"
	"photogen/internal/demo"
	"photogen/internal/testdb"
	"photogen/operator"
	"photogen/store"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type fixture struct {
	db   *testdb.DB
	st   *store.Store
	jobs generation.Inserter
	op   *operator.Operator
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	db := testdb.New(t)
	jobs, err := generation.NewInserter(db.Pool)
	require.NoError(t, err)
	st := store.New(db.Pool)
	return fixture{db: db, st: st, jobs: jobs, op: operator.New(st, jobs)}
}

// subscriber creates a subscriber in status, last updated ago.
func (f fixture) subscriber(t *testing.T, email string, status generation.Status, ago time.Duration) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	hash := sha256.Sum256([]byte(email))
	id, err := f.st.CreateSubscriber(ctx, store.NewSubscriber{Email: email, Strategy: map[string]any{"prompt": "p"},
		AccessTokenHash: hash[:], TargetPhotos: 30})
	require.NoError(t, err)
	if status != generation.StatusAwaitingPayment {
		_, err = f.db.Pool.Exec(ctx, `UPDATE subscribers SET paid_at = now(), generation_status = $2,
			generation_error = CASE WHEN $2 = 'failed' THEN 'provider answered 402' END WHERE id = $1`, id, status)
		require.NoError(t, err)
	}
	_, err = f.db.Pool.Exec(ctx, `UPDATE subscribers SET updated_at = now() - make_interval(secs => $2) WHERE id = $1`, id, ago.Seconds())
	require.NoError(t, err)
	return id
}

func (f fixture) deliver(t *testing.T, body []byte) {
	t.Helper()
	ev, err := checkout.Decode(body)
	require.NoError(t, err)
	_, err = checkout.Apply(context.Background(), f.st, f.jobs, ev, body)
	require.NoError(t, err)
}

type listed struct {
	Generations []struct {
		SubscriberID uuid.UUID `json:"subscriber_id"`
		Status       string    `json:"status"`
		Error        *string   `json:"error"`
	} `json:"generations"`
	More bool `json:"more"`
}

func TestListGenerationsByStateAndAge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	failed := f.subscriber(t, "failed@example.com", generation.StatusFailed, time.Minute)
	stuck := f.subscriber(t, "stuck@example.com", generation.StatusGenerating, time.Hour)
	f.subscriber(t, "busy@example.com", generation.StatusGenerating, time.Second)
	f.subscriber(t, "refunded@example.com", generation.StatusRefunded, 2*time.Hour)

	list := func(q operator.GenerationQuery) listed {
		var buf bytes.Buffer
		require.NoError(t, f.op.ListGenerations(ctx, q, &buf, operator.JSON))
		var l listed
		require.NoError(t, json.Unmarshal(buf.Bytes(), &l), buf.String())
		return l
	}
	l := list(operator.GenerationQuery{Statuses: []generation.Status{generation.StatusFailed}, Limit: 10})
	require.Len(t, l.Generations, 1)
	require.Equal(t, failed, l.Generations[0].SubscriberID)
	require.Equal(t, "provider answered 402", *l.Generations[0].Error)

	l = list(operator.GenerationQuery{Statuses: []generation.Status{generation.StatusGenerating}, OlderThan: 10 * time.Minute, Limit: 10})
	require.Len(t, l.Generations, 1, "the one generating for a second is not stuck")
	require.Equal(t, stuck, l.Generations[0].SubscriberID)

	l = list(operator.GenerationQuery{Limit: 2})
	require.Len(t, l.Generations, 2)
	require.True(t, l.More)
	require.Equal(t, "refunded", l.Generations[0].Status, "the longest untouched first")

	var buf bytes.Buffer
	require.NoError(t, f.op.ListGenerations(ctx, operator.GenerationQuery{Statuses: []generation.Status{generation.StatusGenerating}, Limit: 10}, &buf, operator.Text))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, buf.String())
	require.Regexp(t, `^SUBSCRIBER +EMAIL +STATUS +PHOTOS +UPDATED +ERROR$`, lines[0])
	require.Regexp(t, `^`+stuck.String()+` +stuck@example.com +generating +0/30 +\S+ \(1h0m\d+s ago\)`, lines[1])

	buf.Reset()
	require.NoError(t, f.op.ListGenerations(ctx, operator.GenerationQuery{Statuses: []generation.Status{generation.StatusQueued}, Limit: 10}, &buf, operator.Text))
	require.Equal(t, "no generation matches\n", buf.String())

	_, err := operator.ParseStatus("stuck")
	require.ErrorContains(t, err, "want awaiting_payment, queued, generating, completed, failed, refunded")
}

func TestStripeEventsListAndReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.deliver(t, demo.CheckoutCompleted("evt_early", "", "early@example.com"))
	paid := f.subscriber(t, "paid@example.com", generation.StatusAwaitingPayment, 0)
	f.deliver(t, demo.CheckoutCompleted("evt_paid", paid.String(), "paid@example.com"))

	var buf bytes.Buffer
	require.NoError(t, f.op.ListStripeEvents(ctx, store.OutcomeUnmatched, 10, &buf, operator.Text))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2, buf.String())
	require.Regexp(t, `^evt_early +checkout.session.completed +unmatched +\S+ +early@example.com`, lines[1])

	_, err := f.op.ReplayStripeEvent(ctx, "evt_early", &buf, operator.Text)
	require.ErrorIs(t, err, checkout.ErrStillUnmatched)
	require.ErrorContains(t, err, "create or correct the subscriber")

	early := f.subscriber(t, "early@example.com", generation.StatusAwaitingPayment, 0)
	buf.Reset()
	res, err := f.op.ReplayStripeEvent(ctx, "evt_early", &buf, operator.JSON)
	require.NoError(t, err)
	require.True(t, res.Changed)
	var v map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &v))
	require.Equal(t, map[string]any{"event_id": "evt_early", "event_type": "checkout.session.completed",
		"outcome_before": "unmatched", "outcome": "applied", "changed": true, "subscriber_id": early.String(),
		"generation_status": "queued"}, v)

	buf.Reset()
	_, err = f.op.ReplayStripeEvent(ctx, "evt_early", &buf, operator.Text)
	require.NoError(t, err)
	require.Equal(t, "event evt_early is already applied (subscriber "+early.String()+"): nothing to replay\n", buf.String())

	buf.Reset()
	require.NoError(t, f.op.ListStripeEvents(ctx, "", 10, &buf, operator.JSON))
	var all struct {
		Events []struct {
			EventID string `json:"event_id"`
			Outcome string `json:"outcome"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &all))
	require.Len(t, all.Events, 2)
	for _, e := range all.Events {
		require.Equal(t, "applied", e.Outcome, e.EventID)
	}
}

func TestShowAndQueueStatsAsJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	id := f.subscriber(t, "show@example.com", generation.StatusAwaitingPayment, 0)
	f.deliver(t, demo.CheckoutCompleted("evt_show", id.String(), "show@example.com"))

	var buf bytes.Buffer
	require.NoError(t, f.op.Show(ctx, id, &buf, operator.JSON))
	var g struct {
		SubscriberID uuid.UUID `json:"subscriber_id"`
		Status       string    `json:"status"`
		PhotoURLs    []string  `json:"photo_urls"`
		Predictions  struct {
			Created int `json:"created"`
		} `json:"predictions"`
		Jobs []struct {
			Kind  string `json:"kind"`
			State string `json:"state"`
		} `json:"jobs"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &g), buf.String())
	require.Equal(t, id, g.SubscriberID)
	require.Equal(t, "queued", g.Status)
	require.NotNil(t, g.PhotoURLs)
	require.Len(t, g.Jobs, 1)
	require.Equal(t, "generate_photos", g.Jobs[0].Kind)

	buf.Reset()
	require.NoError(t, f.op.QueueStats(ctx, &buf, operator.JSON))
	var q struct {
		JobsByState map[string]int `json:"jobs_by_state"`
		Oldest      *float64       `json:"oldest_available_seconds"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &q), buf.String())
	require.Equal(t, 1, q.JobsByState["available"])
	require.NotNil(t, q.Oldest)
}
