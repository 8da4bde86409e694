package worker

// Tests of the worker's side of the wake-up: a lingering attempt is rung by a webhook's
// wake-up through the process's LISTEN connection, and does not linger without it; and
// of which attempts the hand-back considers.

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
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

func TestALingeringAttemptIsRungByTheWakeUp(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t).Pool)
	id := generating(t, st)
	w := &GenerateWorker{store: st, cfg: Config{}.WithDefaults(), logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bellDone := make(chan struct{})
	go func() { defer close(bellDone); w.bell.run(ctx, st, w.logger, func() {}) }()
	require.Eventually(t, w.bell.isListening, 30*time.Second, 5*time.Millisecond)

	// The linger's deadline is far: only a ring can end it with news, since it looks at
	// the database only when it starts and when rung.
	news := make(chan bool, 1)
	go func() {
		got, err := w.linger(ctx, id, time.Now().Add(40*time.Second))
		assert.NoError(t, err)
		news <- got
	}()
	require.Eventually(t, func() bool { return waiters(&w.bell, id) == 1 }, 30*time.Second, 5*time.Millisecond)
	require.NoError(t, st.WithTx(ctx, func(tx *store.Store) error {
		status, err := tx.RequestWake(ctx, id) // what generation.Wake does first
		require.Equal(t, generation.StatusGenerating, status)
		return err
	}))
	select {
	case got := <-news:
		require.True(t, got, "the ring brought the news")
	case <-ctx.Done():
		t.Fatal("the linger was not rung")
	}
	taken, err := st.TakeWake(ctx, id)
	require.NoError(t, err)
	require.False(t, taken, "the linger took the news: the job is not woken again for it")

	cancel()
	<-bellDone
	require.False(t, w.bell.isListening())
}

func TestNoLingerWithoutTheListener(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t).Pool)
	id := generating(t, st)
	w := &GenerateWorker{store: st, cfg: Config{}.WithDefaults(), logger: slog.New(slog.DiscardHandler)}
	_, err := st.RequestWake(context.Background(), id)
	require.NoError(t, err)
	news, err := w.linger(context.Background(), id, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.False(t, news, "no bell, no linger: finish reads the ledger instead")
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
