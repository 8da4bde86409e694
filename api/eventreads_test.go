package api

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/generation"
	"photogen/internal/testdb"
	"photogen/store"
)

// TestSharedReadsNeverServeAReadBegunBeforeTheWake: a stream woken at after never takes
// the result of a read that began before it (that read could miss the change that
// rang); a read that began after is shared.
func TestSharedReadsNeverServeAReadBegunBeforeTheWake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	st := store.New(db.Pool)
	sum := sha256.Sum256([]byte("shared reads"))
	id, err := st.CreateSubscriber(ctx, store.NewSubscriber{Email: "r@example.com",
		Strategy: map[string]any{"prompt": "p"}, AccessTokenHash: sum[:], TargetPhotos: 30})
	require.NoError(t, err)
	r := &sharedReads{store: st, m: make(map[uuid.UUID]*readFlight)}

	stale := &readFlight{start: time.Now(), done: make(chan struct{})} // never ends
	r.m[id] = stale
	after := time.Now()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := r.read(rctx, id, after)
	require.NoError(t, err, "a read of its own, not the stale one")
	require.Equal(t, id, got.ID)

	fresh := &readFlight{start: time.Now(), done: make(chan struct{}), sub: &generation.Subscriber{Email: "shared"}}
	r.m[id] = fresh
	close(fresh.done)
	got, err = r.read(rctx, id, after)
	require.NoError(t, err)
	require.Equal(t, "shared", got.Email)
}
