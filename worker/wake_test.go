package worker

// Tests of the worker's side of the wake-up: an attempt is rung with a webhook's news
// through the process's LISTEN connection, and does not linger without it; and
// of which attempts the hand-back considers.

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/generation"
	"photogen/internal/testdb"
	"photogen/store"
)

// generating creates a subscriber whose generation is under way.
func generating(t *testing.T, st *store.Store) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	hash := sha256.Sum256([]byte(uuid.NewString()))
	id, err := st.CreateSubscriber(ctx, store.NewSubscriber{Email: uuid.NewString() + "@example.com",
		Strategy: map[string]any{"prompt": "a heron"}, AccessTokenHash: hash[:], TargetPhotos: 30})
	require.NoError(t, err)
	_, err = st.MarkPaid(ctx, id, "")
	require.NoError(t, err)
	_, err = st.StartGeneration(ctx, id)
	require.NoError(t, err)
	return id
}

func TestAnAttemptIsRungWithTheNews(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t).Pool)
	id, other := generating(t, st), generating(t, st)
	w := &GenerateWorker{store: st, cfg: Config{}.WithDefaults(), logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bellDone := make(chan struct{})
	go func() { defer close(bellDone); w.bell.run(ctx, st, w.logger, func() {}) }()
	require.Eventually(t, w.bell.isListening, 30*time.Second, 5*time.Millisecond)

	r, stop, ok := w.bell.subscribe(id)
	require.True(t, ok)
	defer stop()
	require.Equal(t, 1, waiters(&w.bell, id))
	want := []generation.News{
		{Subscriber: id, Prediction: "p1", Status: generation.PredictionFinished, OutputURL: "https://replicate.delivery/p1.png"},
		{Subscriber: other, Prediction: "p2", Status: generation.PredictionFinished, OutputURL: "https://replicate.delivery/p2.png"},
		{Subscriber: id, Prediction: "p3", Status: generation.PredictionFailed},
	}
	for _, news := range want {
		require.NoError(t, st.WithTx(ctx, func(tx *store.Store) error {
			status, err := tx.RequestWake(ctx, news) // what generation.Wake does first
			require.Equal(t, generation.StatusGenerating, status)
			return err
		}))
	}
	var got []generation.News
	for len(got) < 2 {
		select {
		case <-r.c:
			news, look := r.take()
			require.False(t, look, "news with its prediction needs no look at the ledger")
			got = append(got, news...)
		case <-ctx.Done():
			t.Fatalf("rung with %v only", got)
		}
	}
	require.Equal(t, []generation.News{want[0], want[2]}, got, "the subscriber's news only, in order")
	pending, err := st.TakeWake(ctx, id)
	require.NoError(t, err)
	require.True(t, pending, "the news stays pending for finish's look before the job sleeps")

	w.bell.ringAll(true)
	<-r.c
	news, look := r.take()
	require.True(t, look, "a ring to all asks for a look")
	require.Empty(t, news)

	cancel()
	<-bellDone
	require.False(t, w.bell.isListening())
}

func TestNoLingerWithoutTheListener(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t).Pool)
	id := generating(t, st)
	w := &GenerateWorker{store: st, cfg: Config{}.WithDefaults(), logger: slog.New(slog.DiscardHandler)}
	_, err := st.RequestWake(context.Background(), generation.News{Subscriber: id})
	require.NoError(t, err)
	_, _, ok := w.bell.subscribe(id)
	require.False(t, ok, "no bell, no subscription")
	a := &attemptState{tasks: newTasks(), stopCreating: time.Now().Add(time.Hour),
		ledger: store.Ledger{InFlight: []store.InFlight{{ProviderID: "p1"}}}}
	require.False(t, w.mayLinger(a), "no bell, no linger: finish reads the ledger instead")
}

// waiters is how many attempts wait on id's ring.
func waiters(b *bell, id uuid.UUID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiting[id])
}

// TestAttemptsOfferOnlyWhatRiverDidNotWrite: the hand-back considers only attempts that
// ended here, not reported written by River, and not just ended.
func TestAttemptsOfferOnlyWhatRiverDidNotWrite(t *testing.T) {
	t.Parallel()
	a := newAttempts()
	a.start(1)
	a.start(2)
	a.start(3)
	require.Empty(t, a.unwritten(), "running attempts are never handed back")
	t1, t3 := time.Unix(1, 0), time.Unix(3, 0)
	a.end(1, t1)
	a.end(2, time.Unix(2, 0))
	a.end(3, t3)
	require.Empty(t, a.unwritten(), "the completer gets a second first")
	a.written(2)
	a.mu.Lock()
	for id, e := range a.ended {
		e.at = e.at.Add(-2 * time.Second)
		a.ended[id] = e
	}
	a.mu.Unlock()
	require.Equal(t, map[int64]time.Time{1: t1, 3: t3}, a.unwritten())
	a.start(1) // fetched again: its new attempt runs here
	require.Equal(t, map[int64]time.Time{3: t3}, a.unwritten())
}
