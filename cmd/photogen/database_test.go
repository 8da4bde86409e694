// photogen's sessions carry their keepalives and timeouts to PostgreSQL, a DATABASE_URL
// that sets one wins, and migrations run without a statement timeout.

package main

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/metrics"
	"photogen/store"
)

func TestSessionSettingsReachPostgreSQL(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	show := func(u string, long bool, names ...string) map[string]string {
		t.Helper()
		cfg, err := loadConfig(getenv(map[string]string{"DATABASE_URL": u}), usesDatabase)
		require.NoError(t, err)
		pool, err := openPool(ctx, cfg, long)
		require.NoError(t, err)
		defer pool.Close()
		require.EqualValues(t, cliMaxConns, pool.Config().MaxConns)
		got := map[string]string{}
		for _, n := range names {
			var v string
			require.NoError(t, pool.QueryRow(ctx, "SELECT current_setting($1)", n).Scan(&v))
			got[n] = v
		}
		return got
	}
	names := []string{"tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count", "tcp_user_timeout",
		"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"}
	require.Equal(t, map[string]string{"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3",
		"tcp_user_timeout": "60000", "statement_timeout": "2min", "lock_timeout": "10s", "idle_in_transaction_session_timeout": "45s"},
		show(db.URL, false, names...), "idle in a transaction: the provider's HTTP timeout (30 s) and 15 s")
	require.Equal(t, map[string]string{"statement_timeout": "0", "lock_timeout": "90s"}, show(db.URL, true, "statement_timeout", "lock_timeout"),
		"migrations: no statement timeout, and the old lock timeout for their DDL")

	u, err := url.Parse(db.URL)
	require.NoError(t, err)
	q := u.Query()
	q.Set("statement_timeout", "5000")
	q.Set("tcp_keepalives_idle", "7")
	u.RawQuery = q.Encode()
	got := show(u.String(), false, "statement_timeout", "tcp_keepalives_idle", "lock_timeout")
	require.Equal(t, map[string]string{"statement_timeout": "5s", "tcp_keepalives_idle": "7", "lock_timeout": "10s"}, got, "the URL's own settings win")
}

func TestPoolDefaults(t *testing.T) {
	t.Parallel()
	pc, err := poolConfig("postgres://u@127.0.0.1:1/db", 6, false, time.Minute)
	require.NoError(t, err)
	require.EqualValues(t, 6, pc.MaxConns)
	require.Equal(t, healthCheckPeriod, pc.HealthCheckPeriod)
	require.Equal(t, maxConnIdleTime, pc.MaxConnIdleTime)
	require.Equal(t, connectTimeout, pc.ConnConfig.ConnectTimeout)
	require.NotNil(t, pc.ConnConfig.DialFunc)
	// The LISTEN connections (live/, the worker's) are opened with a copy of the pool's
	// connection configuration, so they carry the same settings.
	require.Equal(t, pc.ConnConfig.RuntimeParams, pc.ConnConfig.Copy().RuntimeParams)

	pc, err = poolConfig("postgres://u@127.0.0.1:1/db?pool_max_conns=3&pool_health_check_period=1m&connect_timeout=2", 6, false, time.Minute)
	require.NoError(t, err)
	require.EqualValues(t, 3, pc.MaxConns, "the URL's pool_max_conns wins")
	require.Equal(t, "1m0s", pc.HealthCheckPeriod.String())
	require.Equal(t, "2s", pc.ConnConfig.ConnectTimeout.String())

	webhooks := map[string]string{"REPLICATE_WEBHOOK_URL": "https://api.example.com/webhooks/replicate"}
	for u, want := range map[uses]int32{usesDatabase: cliMaxConns, usesDatabase | usesAPI: apiMaxConns,
		usesDatabase | usesWorker: workerMaxConns, usesDatabase | usesAPI | usesWorker: apiMaxConns + workerMaxConns} {
		c, _ := loadConfig(getenv(webhooks), u) // the secrets are missing: only the pool's size is looked at
		require.Equal(t, want, c.MaxConns, "%s", u.mode())
	}
	// Without webhooks every create in flight holds a connection.
	c, _ := loadConfig(getenv(nil), usesDatabase|usesWorker)
	require.EqualValues(t, workerSyncCreatesMaxConns, c.MaxConns)
	c, _ = loadConfig(getenv(map[string]string{"DATABASE_MAX_CONNS": "9"}), usesDatabase|usesWorker)
	require.EqualValues(t, 9, c.MaxConns)
	// 1 api and 10 workers, each with its LISTEN connection outside the pool, leave
	// PostgreSQL's default max_connections (100) room for superusers (3) and operators.
	require.LessOrEqual(t, (apiMaxConns+1)+10*(workerMaxConns+1), 100-3-15)
}

// countingTracer counts the statements it sees, to show that reachedBy keeps a tracer
// already set.
type countingTracer struct{ n *atomic.Int32 }

func (c countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func TestPoolMovesTheDatabaseClock(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	cfg, err := loadConfig(getenv(map[string]string{"DATABASE_URL": db.URL}), usesDatabase)
	require.NoError(t, err)
	var clock metrics.DatabaseClock
	var traced atomic.Int32
	pool, err := openPool(ctx, cfg, false, func(pc *pgxpool.Config) { pc.ConnConfig.Tracer = countingTracer{&traced} }, reachedBy(&clock))
	require.NoError(t, err)
	defer pool.Close()

	last := func() time.Time {
		at, ok := clock.Last()
		require.True(t, ok, "the clock has been reached")
		return at
	}
	before := time.Now()
	_, err = pool.Exec(ctx, "SELECT 1")
	require.NoError(t, err)
	require.False(t, last().Before(before), "an answered statement moves the clock")
	require.Positive(t, traced.Load(), "the tracer set before is kept")

	before = time.Now()
	_, err = pool.Exec(ctx, "SELECT 1/0")
	require.Error(t, err)
	require.False(t, last().Before(before), "a server error is an answer: PostgreSQL was reached")

	before = time.Now()
	ln, err := store.New(pool).Listen(ctx, store.WakeChannel)
	require.NoError(t, err)
	require.NoError(t, ln.Close(ctx))
	require.False(t, last().Before(before), "the LISTEN connection copies the pool's configuration")

	at := last()
	reachTracer{clock: &clock}.TraceQueryEnd(ctx, nil, pgx.TraceQueryEndData{Err: errors.New("read tcp: connection reset by peer")})
	require.Equal(t, at, last(), "a network error is no answer")
}
