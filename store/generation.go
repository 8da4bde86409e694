// This file moves a subscriber's generation between its states in the database: the
// row lock decisions are taken under, the creation lock a refund waits on, start,
// requeue and fail.

package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"photogen/generation"
)

// LockSubscriber returns the subscriber with id and locks its row until the transaction
// ends, so that a decision taken on what it returns cannot race with the worker's append.
// It gives ErrNotFound for an unknown id. Use it inside WithTx.
func (s *Store) LockSubscriber(ctx context.Context, id uuid.UUID) (*generation.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers WHERE id = $1 FOR UPDATE`
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, id))
	return sub, translate("lock subscriber", err)
}

// creationLock is the advisory lock key of a subscriber's creations: held shared by each
// prediction creation, exclusively by whatever stops the generation (refund, cancel).
const creationLock = `hashtextextended('photogen creations ' || $1::text, 0)`

// LockForCreation returns the subscriber's generation status and holds the creation
// lock shared until the transaction ends: the worker holds it around each create call,
// so that a refund or a cancellation waits for creations under way and is seen by every
// later one. Unlike a row lock, it does not hold up the append or a wake-up, however
// long the provider takes to answer.
func (s *Store) LockForCreation(ctx context.Context, id uuid.UUID) (generation.Status, error) {
	if _, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(`+creationLock+`)`, id); err != nil {
		return "", translate("lock for creation", err)
	}
	var st generation.Status
	err := s.db.QueryRow(ctx, `SELECT generation_status FROM subscribers WHERE id = $1`, id).Scan(&st)
	return st, translate("lock for creation", err)
}

// stopCreations waits for the creations under way and keeps new ones out until the
// transaction ends. It waits as long as they take (each is bounded by the provider's
// HTTP timeout, and the wait by statement_timeout): lock_timeout, short for every other
// wait, is lifted for this statement, before its lock is asked for.
func (s *Store) stopCreations(ctx context.Context, id uuid.UUID) error {
	_, err := s.db.Exec(ctx, `SELECT set_config('lock_timeout', '0', true), pg_advisory_xact_lock(`+creationLock+`)`, id)
	return translate("stop creations", err)
}

// RequeueGeneration moves a failed generation back to queued and clears its error, so
// that a new job continues it from the ledger. Other states are left as they are. It
// returns the subscriber as it now is, or ErrNotFound.
func (s *Store) RequeueGeneration(ctx context.Context, id uuid.UUID) (*generation.Subscriber, error) {
	q := `UPDATE subscribers
		SET generation_status = CASE WHEN generation_status = 'failed' THEN 'queued' ELSE generation_status END,
		    generation_error = CASE WHEN generation_status = 'failed' THEN NULL ELSE generation_error END,
		    delayed_since = CASE WHEN generation_status = 'failed' THEN NULL ELSE delayed_since END,
		    delay_reason = CASE WHEN generation_status = 'failed' THEN NULL ELSE delay_reason END,
		    updated_at = now()
		WHERE id = $1
		RETURNING ` + subscriberColumns
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, id))
	return sub, translate("requeue generation", err)
}

// StartGeneration marks a queued generation as generating and returns the subscriber.
// A generation in any other state is returned unchanged: the worker reads its Status to
// know whether there is anything to do. Unknown ids give ErrNotFound.
func (s *Store) StartGeneration(ctx context.Context, id uuid.UUID) (*generation.Subscriber, error) {
	q := `UPDATE subscribers
		SET generation_status = CASE WHEN generation_status = 'queued' THEN 'generating' ELSE generation_status END,
		    updated_at = CASE WHEN generation_status = 'queued' THEN now() ELSE updated_at END
		WHERE id = $1
		RETURNING ` + subscriberColumns
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, id))
	return sub, translate("start generation", err)
}

// FailGeneration ends a queued or generating generation as failed with a reason that
// the status endpoint shows. It returns false when the generation was in another state
// (completed, already failed), which it leaves alone.
func (s *Store) FailGeneration(ctx context.Context, id uuid.UUID, reason string) (bool, error) {
	if err := s.stopCreations(ctx, id); err != nil {
		return false, err
	}
	const q = `UPDATE subscribers
		SET generation_status = 'failed', generation_error = $2, updated_at = now(),
		    delayed_since = NULL, delay_reason = NULL
		WHERE id = $1 AND generation_status IN ('queued', 'generating')`
	tag, err := s.db.Exec(ctx, q, id, reason)
	if err != nil {
		return false, translate("fail generation", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DelayGeneration records that a generating generation waits out an outage for reason:
// since when it has waited (the first delay's time, kept while the outage lasts, whatever
// its reason becomes), measured by the database's clock, and whether the delay starts
// now. The status endpoint sees a new reason (updated_at moves and the subscriber's
// notice rings), not each repeat. A generation in another state is left alone:
// ErrNotFound.
func (s *Store) DelayGeneration(ctx context.Context, id uuid.UUID, reason generation.DelayReason) (waited time.Duration, started bool, err error) {
	const q = `WITH was AS (SELECT delay_reason FROM subscribers WHERE id = $1 FOR UPDATE)
		UPDATE subscribers s
		SET delayed_since = coalesce(s.delayed_since, now()), delay_reason = $2,
		    updated_at = CASE WHEN s.delay_reason IS DISTINCT FROM $2 THEN now() ELSE s.updated_at END
		FROM was
		WHERE s.id = $1 AND s.generation_status = 'generating'
		RETURNING extract(epoch FROM now() - s.delayed_since)::float8, was.delay_reason IS NULL`
	var secs float64
	err = s.db.QueryRow(ctx, q, id, reason).Scan(&secs, &started)
	return time.Duration(secs * float64(time.Second)), started, translate("delay generation", err)
}

// ClearDelay ends the generation's delay, if it has one: the outage is over. It reports
// whether there was one.
func (s *Store) ClearDelay(ctx context.Context, id uuid.UUID) (bool, error) {
	tag, err := s.db.Exec(ctx, `UPDATE subscribers SET delayed_since = NULL, delay_reason = NULL, updated_at = now()
		WHERE id = $1 AND delayed_since IS NOT NULL`, id)
	if err != nil {
		return false, translate("clear delay", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DelayedGenerations counts the generations waiting out an outage, fleet-wide, by reason.
func (s *Store) DelayedGenerations(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.Query(ctx, `SELECT delay_reason, count(*) FROM subscribers
		WHERE delayed_since IS NOT NULL AND generation_status = 'generating' GROUP BY delay_reason`)
	if err != nil {
		return nil, translate("delayed generations", err)
	}
	byReason := map[string]int{}
	var reason string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&reason, &n}, func() error {
		byReason[reason] = n
		return nil
	})
	return byReason, translate("delayed generations", err)
}
