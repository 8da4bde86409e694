package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/store"
)

func TestUnreachableAndContended(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)

	// Real failures, from a real server and a port where none listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	pool, err := pgxpool.New(ctx, "postgres://postgres@"+addr+"/x?connect_timeout=2")
	require.NoError(t, err)
	defer pool.Close()
	_, refused := pool.Exec(ctx, "SELECT 1")
	conn, err := pgconn.Connect(ctx, db.URL)
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	closed := conn.Exec(ctx, "SELECT 1").Close()
	_, syntax := db.Pool.Exec(ctx, "SELEC 1")
	tx, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, "SET LOCAL statement_timeout = '10ms'")
	require.NoError(t, err)
	_, cancelled := tx.Exec(ctx, "SELECT pg_sleep(1)")

	for _, c := range []struct {
		name                   string
		err                    error
		unreachable, contended bool
	}{
		{"connection refused", refused, true, false},
		{"a closed connection", closed, true, false},
		{"wrapped by the store", fmt.Errorf("ledger: %w", io.ErrUnexpectedEOF), true, false},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true, false},
		{"too many clients", &pgconn.PgError{Code: "53300"}, true, false},
		{"statement_timeout", cancelled, false, true},
		{"lock_timeout", &pgconn.PgError{Code: "55P03"}, false, true},
		{"a syntax error", syntax, false, false},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false, false},
		{"not found", store.ErrNotFound, false, false},
		{"anything else", errors.New("boom"), false, false},
	} {
		require.Error(t, c.err, c.name)
		require.Equal(t, c.unreachable, store.Unreachable(c.err), "%s: %v", c.name, c.err)
		require.Equal(t, c.contended, store.Contended(c.err), "%s: %v", c.name, c.err)
	}
}
