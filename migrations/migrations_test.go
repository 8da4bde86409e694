package migrations_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/migrations"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func tables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version' ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

func TestUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t) // migrated up
	logger := slog.New(slog.DiscardHandler)
	up := tables(t, db.Pool)
	require.Contains(t, up, "subscribers")
	require.Contains(t, up, "river_job")
	require.NoError(t, migrations.Check(ctx, db.Pool))

	require.NoError(t, migrations.Down(ctx, db.Pool, logger))
	require.Empty(t, tables(t, db.Pool))
	require.ErrorIs(t, migrations.Check(ctx, db.Pool), migrations.ErrPending)

	require.NoError(t, migrations.Up(ctx, db.Pool, logger))
	require.Equal(t, up, tables(t, db.Pool))
	require.NoError(t, migrations.Up(ctx, db.Pool, logger), "idempotent")
}

func TestConcurrentUpIsSafe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	logger := slog.New(slog.DiscardHandler)
	require.NoError(t, migrations.Down(ctx, db.Pool, logger))

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			pool, err := pgxpool.New(ctx, db.URL)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = migrations.Up(ctx, pool, logger)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, migrations.Check(ctx, db.Pool))
}
