// This file tells a database that cannot be reached from every other failure, so that
// the api answers it with 503 and Retry-After (the client, Stripe or Replicate retries)
// rather than 500.

package api

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// retryAfterSeconds is the Retry-After of a 503: about how long a PostgreSQL restart or
// failover takes to accept connections again.
const retryAfterSeconds = "5"

// databaseUnavailable reports whether err says PostgreSQL cannot be reached or is not
// serving: no connection (refused, reset, timed out, closed mid-statement), none free
// in time, the pool closed, or the server shutting down, starting up, or out of
// connections. A statement that PostgreSQL ran and refused is not one of them.
func databaseUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection_exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin, crash shutdown; cannot connect now
			return true
		case pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded):
		// A connect or an acquire that did not finish in time.
		return true
	}
	return false
}
