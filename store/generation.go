// This file moves a subscriber's generation between its states in the database: the
// row lock decisions are taken under, the creation lock a refund waits on, start,
// requeue and fail.

package store

import (
	"context"

	"github.com/google/uuid"

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
// transaction ends.
func (s *Store) stopCreations(ctx context.Context, id uuid.UUID) error {
	_, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock(`+creationLock+`)`, id)
	return translate("stop creations", err)
}

// RequeueGeneration moves a failed generation back to queued and clears its error, so
// that a new job continues it from the ledger. Other states are left as they are. It
// returns the subscriber as it now is, or ErrNotFound.
func (s *Store) RequeueGeneration(ctx context.Context, id uuid.UUID) (*generation.Subscriber, error) {
	q := `UPDATE subscribers
		SET generation_status = CASE WHEN generation_status = 'failed' THEN 'queued' ELSE generation_status END,
		    generation_error = CASE WHEN generation_status = 'failed' THEN NULL ELSE generation_error END,
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
		SET generation_status = 'failed', generation_error = $2, updated_at = now()
		WHERE id = $1 AND generation_status IN ('queued', 'generating')`
	tag, err := s.db.Exec(ctx, q, id, reason)
	if err != nil {
		return false, translate("fail generation", err)
	}
	return tag.RowsAffected() == 1, nil
}
