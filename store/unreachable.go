// This file tells a database that cannot be reached, or a statement that lost a race for
// a lock or the clock, from every other failure: both pass, and the caller tries again
// (the api answers 503 with Retry-After, the worker snoozes its job for a second) rather
// than report an internal error or spend an attempt.

package store

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unreachable reports whether err says PostgreSQL cannot be reached or is not
// serving: no connection (refused, reset, timed out, closed mid-statement), none free
// in time, the pool closed, or the server shutting down, starting up, or out of
// connections. A statement that PostgreSQL ran and refused is not one of them.
func Unreachable(err error) bool {
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
	case pgconn.SafeToRetry(err): // a connection already closed ("conn closed"): nothing was sent
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded):
		// A connect or an acquire that did not finish in time.
		return true
	}
	return false
}

// Contended reports whether PostgreSQL refused a statement for a race that passes: a
// lock not granted within lock_timeout, a statement cancelled by statement_timeout, a
// serialization failure or a deadlock.
func Contended(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "55P03", "57014", "40001", "40P01": // lock_not_available, query_canceled, serialization_failure, deadlock_detected
		return true
	}
	return false
}
