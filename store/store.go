// Package store owns every SQL statement photogen runs. Statements stay SQL, one const
// beside the method that runs it; the invariants they rely on live in migrations/.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a unique key.
var ErrConflict = errors.New("conflict")

// DBTX is what the store runs statements on: both *pgxpool.Pool and pgx.Tx satisfy it.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store runs photogen's statements on a pool, or on one transaction (see WithTx).
type Store struct {
	pool *pgxpool.Pool
	db   DBTX
	tx   pgx.Tx // set inside WithTx
}

// New returns a Store that runs each statement on pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, db: pool}
}

// Pool returns the pool the store was built on.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// WithTx runs fn in one transaction, with a Store bound to it (its Tx method gives the
// pgx.Tx, for River's InsertTx). It commits when fn returns nil and rolls back otherwise.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Store) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(raw pgx.Tx) error {
		return fn(&Store{pool: s.pool, db: raw, tx: raw})
	})
}

// Tx returns the transaction a Store from WithTx is bound to, and nil for the pool's.
func (s *Store) Tx() pgx.Tx { return s.tx }

// translate maps driver errors to the store's own: no rows to ErrNotFound and unique
// violations to ErrConflict, wrapped with what was being done.
func translate(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%s: %w (%s)", what, ErrConflict, pgErr.ConstraintName)
	}
	return fmt.Errorf("%s: %w", what, err)
}
