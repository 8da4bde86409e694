// This file is the usage counters' statements: consume under a limit, read a period's
// counts, and the Idempotency-Key answers with their cleanup.

package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Usage is one counter's state for a user after a call.
type Usage struct {
	Counter     string
	Accepted    bool // the call was counted
	Used        int
	PeriodStart time.Time // the UTC month the count belongs to
}

// ConsumeUsage counts one use of counter for user if the month's count stays within
// limit, through the locked SQL function consume_usage. It is one statement: correct
// under any concurrency, and a refusal takes no lock and writes nothing.
func (s *Store) ConsumeUsage(ctx context.Context, user uuid.UUID, counter string, limit int) (Usage, error) {
	const q = `SELECT accepted, used, period_start FROM consume_usage($1, $2, $3)`
	u := Usage{Counter: counter}
	err := s.db.QueryRow(ctx, q, user, counter, limit).Scan(&u.Accepted, &u.Used, &u.PeriodStart)
	return u, translate("consume usage "+counter, err)
}

// UsageFor returns the user's count in the period that began at periodStart for each
// counter that has a row; counters never used, or last used in an earlier period, are
// absent (zero).
func (s *Store) UsageFor(ctx context.Context, user uuid.UUID, periodStart time.Time) (map[string]int, error) {
	const q = `SELECT counter, used FROM usage_counters WHERE user_id = $1 AND period_start >= $2`
	rows, err := s.db.Query(ctx, q, user, periodStart)
	if err != nil {
		return nil, translate("usage", err)
	}
	out := map[string]int{}
	var counter string
	var used int
	_, err = pgx.ForEachRow(rows, []any{&counter, &used}, func() error {
		out[counter] = used
		return nil
	})
	return out, translate("usage", err)
}

// ErrKeyReused is returned when an Idempotency-Key already answered another counter.
var ErrKeyReused = errors.New("idempotency key used for another counter")

// StoredAnswer is the first answer given to an Idempotency-Key.
type StoredAnswer struct {
	Status int
	Body   json.RawMessage
}

// ClaimIdempotencyKey claims key for user and counter inside a transaction. It returns
// (nil, nil) when the key is new: the caller now holds it until its transaction ends
// and must store its answer with StoreIdempotentAnswer. Concurrent claims of one key
// wait for the holder's commit and then get its stored answer. A key first used for
// another counter gives ErrKeyReused. Keys older than 24 hours count as new.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, user uuid.UUID, key, counter string) (*StoredAnswer, error) {
	const claim = `INSERT INTO usage_idempotency_keys AS k (user_id, key, counter, status, response)
		VALUES ($1, $2, $3, 0, 'null')
		ON CONFLICT (user_id, key) DO UPDATE
		SET counter = EXCLUDED.counter, status = 0, response = 'null', created_at = now()
		WHERE k.created_at < now() - interval '24 hours'`
	tag, err := s.db.Exec(ctx, claim, user, key, counter)
	if err != nil {
		return nil, translate("claim idempotency key", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	const stored = `SELECT counter, status, response FROM usage_idempotency_keys WHERE user_id = $1 AND key = $2`
	var gotCounter string
	var a StoredAnswer
	var body string
	if err := s.db.QueryRow(ctx, stored, user, key).Scan(&gotCounter, &a.Status, &body); err != nil {
		return nil, translate("read idempotency key", err)
	}
	if gotCounter != counter {
		return nil, ErrKeyReused
	}
	a.Body = json.RawMessage(body)
	return &a, nil
}

// StoreIdempotentAnswer records the answer for a key claimed in this transaction.
func (s *Store) StoreIdempotentAnswer(ctx context.Context, user uuid.UUID, key string, a StoredAnswer) error {
	const q = `UPDATE usage_idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2`
	_, err := s.db.Exec(ctx, q, user, key, a.Status, string(a.Body))
	return translate("store idempotent answer", err)
}

// DeleteIdempotencyKeysBefore removes keys created before t and returns how many.
func (s *Store) DeleteIdempotencyKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM usage_idempotency_keys WHERE created_at < $1`, t)
	if err != nil {
		return 0, translate("delete idempotency keys", err)
	}
	return tag.RowsAffected(), nil
}
