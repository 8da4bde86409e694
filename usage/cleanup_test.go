package usage_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/store"
	"photogen/usage"
)

func TestCleanupDeletesOnlyExpiredIdempotencyKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	user := uuid.New()
	_, err := db.Pool.Exec(ctx, `INSERT INTO usage_idempotency_keys (user_id, key, counter, status, response, created_at)
		VALUES ($1, 'old', 'resumes', 200, '{}', now() - interval '49 hours'),
		       ($1, 'day', 'resumes', 200, '{}', now() - interval '25 hours'),
		       ($1, 'new', 'resumes', 200, '{}', now())`, user)
	require.NoError(t, err)
	w := usage.NewCleanupWorker(store.New(db.Pool))
	require.NoError(t, w.Work(ctx, &river.Job[usage.CleanupArgs]{}))
	var keys []string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT array_agg(key ORDER BY key) FROM usage_idempotency_keys`).Scan(&keys))
	require.Equal(t, []string{"day", "new"}, keys, "kept at least 24 hours, gone after 48")
}
