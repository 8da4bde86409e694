// This file is LISTEN: a connection of its own that listens on one channel, and the
// channel of live updates, which migration 00006's trigger notifies when a subscriber's
// photos, state or reason change (and, since 00007, its payment or updated_at: whatever
// the status shows).

package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SubscriberChannel is the channel subscribers_notify_changed notifies, at the commit of
// the transaction that changed what a subscriber's status shows: photos, state, reason,
// payment, target or updated_at.
const SubscriberChannel = "photogen_subscriber"

// SubscriberNotice is one notification of SubscriberChannel: whom to read again. Photos
// and At (the trigger's clock_timestamp, inside the writing transaction) help measure.
type SubscriberNotice struct {
	SubscriberID uuid.UUID
	Photos       int
	At           time.Time
}

// ParseSubscriberNotice reads a payload of SubscriberChannel: "<id> <photos> <µs since epoch>".
func ParseSubscriberNotice(payload string) (SubscriberNotice, error) {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return SubscriberNotice{}, fmt.Errorf("subscriber notice %q: want 3 fields", payload)
	}
	id, err := uuid.Parse(f[0])
	if err != nil {
		return SubscriberNotice{}, fmt.Errorf("subscriber notice %q: %w", payload, err)
	}
	photos, err := strconv.Atoi(f[1])
	if err != nil {
		return SubscriberNotice{}, fmt.Errorf("subscriber notice %q: %w", payload, err)
	}
	us, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return SubscriberNotice{}, fmt.Errorf("subscriber notice %q: %w", payload, err)
	}
	return SubscriberNotice{SubscriberID: id, Photos: photos, At: time.UnixMicro(us)}, nil
}

// Listener is one connection of its own, outside the pool, that LISTENs on one channel.
// It is not safe for concurrent use.
type Listener struct {
	conn    *pgx.Conn
	channel string
}

// Listen opens a connection with the pool's configuration (not one of the pool's: it is
// held for as long as it listens) and LISTENs on channel. Notifications committed before
// it returns are not delivered. channel is one of the store's constants, written as is.
func (s *Store) Listen(ctx context.Context, channel string) (*Listener, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", channel, err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listen on %s: %w", channel, err)
	}
	return &Listener{conn: conn, channel: channel}, nil
}

// Next waits for the next notification and returns its payload. An error means the
// connection is lost (or ctx ended): close it and listen again.
func (l *Listener) Next(ctx context.Context) (string, error) {
	n, err := l.conn.WaitForNotification(ctx)
	if err != nil {
		return "", fmt.Errorf("wait on %s: %w", l.channel, err)
	}
	return n.Payload, nil
}

// Close closes the connection.
func (l *Listener) Close(ctx context.Context) error { return l.conn.Close(ctx) }

// NoticeListener is a Listener on SubscriberChannel that reads its notices.
type NoticeListener struct {
	l *Listener
}

// ListenSubscribers listens on SubscriberChannel (see Listen).
func (s *Store) ListenSubscribers(ctx context.Context) (*NoticeListener, error) {
	l, err := s.Listen(ctx, SubscriberChannel)
	if err != nil {
		return nil, err
	}
	return &NoticeListener{l: l}, nil
}

// Next waits for the next notification. A payload it cannot read is returned as an error
// wrapping ErrBadNotice, with the connection still good; any other error means the
// connection is lost (or ctx ended): close it and listen again.
func (l *NoticeListener) Next(ctx context.Context) (SubscriberNotice, error) {
	payload, err := l.l.Next(ctx)
	if err != nil {
		return SubscriberNotice{}, err
	}
	notice, err := ParseSubscriberNotice(payload)
	if err != nil {
		return SubscriberNotice{}, fmt.Errorf("%w: %w", ErrBadNotice, err)
	}
	return notice, nil
}

// ErrBadNotice is wrapped by Next for a payload that is not a SubscriberNotice.
var ErrBadNotice = fmt.Errorf("bad notice on %s", SubscriberChannel)

// Close closes the connection.
func (l *NoticeListener) Close(ctx context.Context) error { return l.l.Close(ctx) }
