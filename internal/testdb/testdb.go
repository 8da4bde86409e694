// Package testdb gives each test its own PostgreSQL database, copied from a template that
// is migrated once per test binary. Every test talks to a real server: there is no mock
// and no skip. The server is found through PHOTOGEN_TEST_DATABASE_URL (set by `make
// test`), else 127.0.0.1:5432; when neither answers the test fails and says so.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"photogen/migrations"
)

// DefaultAdminURL is used when PHOTOGEN_TEST_DATABASE_URL is not set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// template is process-wide on purpose: migrating once per test binary and copying is
// what keeps a database per test cheap. Main drops it when the binary ends.
var template struct {
	once sync.Once
	name string
	err  error
}

// DB is one test's database.
type DB struct {
	Name string
	URL  string // connection string for this database, for processes started by the test
	Pool *pgxpool.Pool
}

// AdminURL returns the connection string of the server's maintenance database.
func AdminURL() string {
	if u := os.Getenv("PHOTOGEN_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// Main runs the tests of a package and then drops the template it made, if any.
// Use it as `func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }`.
func Main(m *testing.M) int {
	code := m.Run()
	if template.name != "" {
		if err := dropDatabase(context.Background(), template.name); err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
		}
	}
	return code
}

// New creates a migrated database for t, and drops it when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	template.once.Do(func() { template.name, template.err = makeTemplate(ctx) })
	if template.err != nil {
		t.Fatalf("testdb: PostgreSQL is required (PHOTOGEN_TEST_DATABASE_URL or %s): %v", DefaultAdminURL, template.err)
	}
	name := uniqueName("photogen_test")
	if err := adminExec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{template.name}.Sanitize())); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	db := &DB{Name: name, URL: WithDatabase(AdminURL(), name)}
	pool, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		t.Fatalf("testdb: connect: %v", err)
	}
	db.Pool = pool
	t.Cleanup(func() {
		// A test that failed while holding a connection (rows not closed) must not hang
		// here: give the pool a moment, then drop the database with FORCE regardless.
		closed := make(chan struct{})
		go func() { pool.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Errorf("testdb: a connection of %s was never released (rows left open?)", name)
		}
		if err := dropDatabase(context.Background(), name); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return db
}

// WithDatabase returns connection string u pointed at database name.
func WithDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprintf("testdb: bad URL %q: %v", u, err))
	}
	parsed.Path = "/" + name
	return parsed.String()
}

func makeTemplate(ctx context.Context) (string, error) {
	name := uniqueName("photogen_tpl")
	if err := adminExec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, WithDatabase(AdminURL(), name))
	if err != nil {
		return name, err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return name, fmt.Errorf("migrate template: %w", err)
	}
	return name, nil
}

func dropDatabase(ctx context.Context, name string) error {
	return adminExec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{name}.Sanitize()))
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(AdminURL()), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", prefix, os.Getpid(), hex.EncodeToString(b))
}

func redact(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return parsed.Redacted()
}

// AddIntent writes an intent (a ledger row being created, with seed) for the subscriber,
// as a create call that died would have left it, whatever the window says; it returns
// the row's id. Tests only: the product writes intents through store.ReserveCreations.
func AddIntent(t testing.TB, pool *pgxpool.Pool, subscriberID fmt.Stringer, seed int64) int64 {
	t.Helper()
	var id int64
	err := pool.QueryRow(context.Background(), `INSERT INTO predictions (subscriber_id, status, seed)
		VALUES ($1, 'creating', $2) RETURNING id`, subscriberID.String(), seed).Scan(&id)
	if err != nil {
		t.Fatalf("add intent: %v", err)
	}
	return id
}
