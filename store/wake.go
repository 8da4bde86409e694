// This file is the database's side of the wake-up handshake (generation.Wake states
// the protocol): the news flag a webhook sets and an attempt takes, and the channel that
// rings the worker processes when it is set.

package store

import (
	"context"

	"github.com/google/uuid"

	"photogen/generation"
)

// WakeChannel is the channel RequestWake notifies, with the news as payload
// (generation.News.Payload), at the commit of the transaction that set it.
const WakeChannel = "photogen_wake"

// RequestWake marks the subscriber's generation as having news, if it is generating,
// rings WakeChannel with it, and returns its status, in one statement. It locks the row
// until the transaction ends, so it waits for a worker's last look at the ledger
// (LockSubscriber) and is seen by the next one.
func (s *Store) RequestWake(ctx context.Context, news generation.News) (generation.Status, error) {
	const q = `WITH woken AS (
		    UPDATE subscribers SET wake_pending = (generation_status = 'generating')
		    WHERE id = $1 RETURNING generation_status
		)
		SELECT generation_status FROM woken
		LEFT JOIN LATERAL (SELECT pg_notify($2, $3) WHERE woken.generation_status = 'generating') rung ON true`
	var st generation.Status
	err := s.db.QueryRow(ctx, q, news.Subscriber, WakeChannel, news.Payload()).Scan(&st)
	return st, translate("request wake", err)
}

// TakeWake clears the subscriber's pending news and reports whether there was any.
func (s *Store) TakeWake(ctx context.Context, id uuid.UUID) (bool, error) {
	tag, err := s.db.Exec(ctx, `UPDATE subscribers SET wake_pending = false WHERE id = $1 AND wake_pending`, id)
	if err != nil {
		return false, translate("take wake", err)
	}
	return tag.RowsAffected() == 1, nil
}
