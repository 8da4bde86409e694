package live_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/live"
	"photogen/store"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func woken(s *live.Subscription, within time.Duration) bool {
	select {
	case <-s.Wake():
		return true
	case <-time.After(within):
		return false
	}
}

func TestHubWakesOnlyTheSubscribersStreamsAndCoalesces(t *testing.T) {
	t.Parallel()
	h := live.NewHub()
	a, b := uuid.New(), uuid.New()
	sa1, sa2, sb := h.Subscribe(a), h.Subscribe(a), h.Subscribe(b)
	require.Equal(t, 3, h.Len())
	subscribed := sa1.RungAt()
	for range 5 {
		h.Notify(a)
	}
	require.True(t, woken(sa1, time.Second))
	require.True(t, sa1.RungAt().After(subscribed), "a read must begin after the ring to see its change")
	require.False(t, woken(sa1, 50*time.Millisecond), "five notices, one wake")
	require.True(t, woken(sa2, time.Second))
	require.False(t, woken(sb, 50*time.Millisecond))
	h.NotifyAll()
	require.True(t, woken(sb, time.Second))
	sa1.Cancel()
	sa1.Cancel()
	require.Equal(t, 2, h.Len())
	h.Close()
	<-sa2.Done()
	<-h.Subscribe(a).Done() // closed: a new stream ends at once
	require.Zero(t, h.Len())
}

// TestListenerReconnects: the listener's connection is killed (as by a restart); it comes
// back, wakes every stream, and hears the next change.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := testdb.New(t)
	s := store.New(db.Pool)
	h := live.NewHub()
	l := live.NewListener(s, h, slog.New(slog.DiscardHandler))
	l.MinBackoff, l.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond // a test need not wait 100 ms
	stopped := make(chan error, 1)
	go func() { stopped <- l.Run(ctx) }()

	sum := [32]byte{1}
	id, err := s.CreateSubscriber(ctx, store.NewSubscriber{Email: "a@example.com", Strategy: map[string]any{"prompt": "p"},
		AccessTokenHash: sum[:], TargetPhotos: 30})
	require.NoError(t, err)
	sub := h.Subscribe(id)
	change := func() {
		_, err := db.Pool.Exec(ctx, `UPDATE subscribers SET photo_urls = photo_urls || '["https://a.example/x.png"]' WHERE id = $1`, id)
		require.NoError(t, err)
	}
	listening := func() int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN `+store.SubscriberChannel+`'`).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return listening() == 1 }, 10*time.Second, 10*time.Millisecond)
	for woken(sub, 10*time.Millisecond) { // the wake of the first connection
	}
	change()
	require.True(t, woken(sub, 5*time.Second))

	_, err = db.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+store.SubscriberChannel+`'`)
	require.NoError(t, err)
	require.True(t, woken(sub, 10*time.Second), "every stream is woken after a reconnect")
	require.Eventually(t, func() bool { return listening() == 1 }, 10*time.Second, 10*time.Millisecond)
	change()
	require.True(t, woken(sub, 5*time.Second), "heard after the reconnect")
	cancel()
	require.NoError(t, <-stopped)
}
