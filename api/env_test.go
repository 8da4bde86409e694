// The api tests' environment: a real database, the api served by httptest, and a
// client; options give a test the configuration or the mounts it exercises.

package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/generation"
	"photogen/internal/demo"
	"photogen/internal/testdb"
	"photogen/store"
	"photogen/usage"
)

const secret = "whsec_api_test"

type env struct {
	db   *testdb.DB
	c    *demo.Client
	url  string
	logs *syncBuffer
	jobs *river.Client[pgx.Tx] // inserts only, as the api's
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// option changes the api's configuration, or the parts it is built with.
type option struct {
	cfg   func(*api.Config)
	parts func(testing.TB, *env, *api.Options)
}

func withConfig(f func(*api.Config)) option { return option{cfg: f} }

func withParts(f func(testing.TB, *env, *api.Options)) option { return option{parts: f} }

// newEnv serves the api with the configuration an operator gets (and the test webhook
// secret), changed only by opts.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	db := testdb.New(t)
	rc, err := generation.NewInserter(db.Pool)
	require.NoError(t, err)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	cfg := api.Config{WebhookSecret: secret}
	for _, o := range opts {
		if o.cfg != nil {
			o.cfg(&cfg)
		}
	}
	st := store.New(db.Pool)
	var counters *usage.Service
	if cfg.JWTSecret != "" {
		limits, err := usage.ParseLimits(usage.DefaultLimits)
		require.NoError(t, err)
		counters = usage.NewService(st, limits, usage.NewMetrics(prometheus.NewRegistry()))
	}
	e := &env{db: db, logs: logs, jobs: rc}
	o := api.Options{Config: cfg, Store: st, Jobs: rc, Usage: counters, Logger: logger}
	for _, opt := range opts {
		if opt.parts != nil {
			opt.parts(t, e, &o)
		}
	}
	server, err := api.New(o)
	require.NoError(t, err)
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	e.url, e.c = srv.URL, &demo.Client{BaseURL: srv.URL}
	return e
}

func (e *env) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}
