package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/store"
)

// TestSubscriberNoticeAtCommit: a change the status or a stream shows rings at commit, not
// before and not for a rollback; updated_at alone (a repeated payment) rings; the
// worker's news (wake_pending) rings nothing.
func TestSubscriberNoticeAtCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	id := newSubscriber(t, s, 30)
	ln, err := s.ListenSubscribers(ctx)
	require.NoError(t, err)
	defer ln.Close(ctx)
	none := func() {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		n, err := ln.Next(wctx)
		require.Error(t, err, "no notice expected, got %+v", n)
	}

	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE subscribers SET photo_urls = '["https://a.example/1.png"]', paid_at = now(),
		generation_status = 'generating' WHERE id = $1`, id)
	require.NoError(t, err)
	none()
	before := time.Now()
	require.NoError(t, tx.Commit(ctx))
	n, err := ln.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, id, n.SubscriberID)
	require.Equal(t, 1, n.Photos)
	require.WithinDuration(t, before, n.At, 5*time.Second)

	tx, err = db.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE subscribers SET generation_status = 'failed', generation_error = 'x' WHERE id = $1`, id)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))
	none()

	_, err = db.Pool.Exec(ctx, `UPDATE subscribers SET wake_pending = true WHERE id = $1`, id)
	require.NoError(t, err)
	none()

	_, err = db.Pool.Exec(ctx, `UPDATE subscribers SET updated_at = now() WHERE id = $1`, id)
	require.NoError(t, err)
	n, err = ln.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, id, n.SubscriberID)
}

func TestParseSubscriberNotice(t *testing.T) {
	t.Parallel()
	n, err := store.ParseSubscriberNotice("0b3c4c1e-8a59-4c55-9a8e-5a7d1b0c2d3e 7 1764633600000000")
	require.NoError(t, err)
	require.Equal(t, 7, n.Photos)
	require.Equal(t, int64(1764633600000000), n.At.UnixMicro())
	for _, bad := range []string{"", "x 1 2", "0b3c4c1e-8a59-4c55-9a8e-5a7d1b0c2d3e x 2", "0b3c4c1e-8a59-4c55-9a8e-5a7d1b0c2d3e 1"} {
		_, err := store.ParseSubscriberNotice(bad)
		require.Error(t, err, bad)
	}
}
