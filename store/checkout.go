// This file is the Stripe side of a generation in the database: the webhook inbox (an
// event recorded once, locked and resolved by a replay), the payment and the refund.

package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"photogen/generation"
)

// EventOutcome says what a Stripe event did, as kept in the webhook inbox.
type EventOutcome string

// The outcomes of a Stripe event.
const (
	OutcomeApplied   EventOutcome = "applied"   // it marked a subscriber paid
	OutcomeUnmatched EventOutcome = "unmatched" // no subscriber matched it; kept for operators
	OutcomeIgnored   EventOutcome = "ignored"   // a type or payment status we do not act on
	OutcomeRefunded  EventOutcome = "refunded"  // a full refund that stopped a subscriber's generation
)

// StripeEvent is one row of the webhook inbox.
type StripeEvent struct {
	ID           string
	Type         string
	Outcome      EventOutcome
	SubscriberID *uuid.UUID
	Payload      []byte // the raw, verified body
}

// RecordStripeEvent writes ev to the inbox. It returns false, and writes nothing, when
// the event id is already there: the caller must then apply no effect. Concurrent
// deliveries of one id wait on each other, and exactly one of them gets true.
func (s *Store) RecordStripeEvent(ctx context.Context, ev StripeEvent) (bool, error) {
	const q = `INSERT INTO stripe_events (event_id, event_type, outcome, subscriber_id, payload)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (event_id) DO NOTHING`
	tag, err := s.db.Exec(ctx, q, ev.ID, ev.Type, ev.Outcome, ev.SubscriberID, string(ev.Payload))
	if err != nil {
		return false, translate("record stripe event "+ev.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// MarkPaid records that the subscriber has paid (the first payment's time and payment
// intent are kept) and moves a generation awaiting payment to queued. It locks the
// subscriber's row until the transaction ends and returns the subscriber as updated, or
// ErrNotFound. paymentIntent may be empty.
func (s *Store) MarkPaid(ctx context.Context, id uuid.UUID, paymentIntent string) (*generation.Subscriber, error) {
	q := `UPDATE subscribers
		SET paid_at = coalesce(paid_at, now()),
		    stripe_payment_intent = coalesce(stripe_payment_intent, nullif($2, '')),
		    generation_status = CASE WHEN generation_status = 'awaiting_payment'
		                             THEN 'queued' ELSE generation_status END,
		    updated_at = now()
		WHERE id = $1
		RETURNING ` + subscriberColumns
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, id, paymentIntent))
	return sub, translate("mark paid", err)
}

// Refund stops the subscriber's generation: a queued, generating or failed generation
// becomes refunded, and no prediction is created for it afterwards (creations hold a
// share lock on the row, so this waits for those under way, and they are in the ledger
// when it returns; see LockForCreation). A completed generation is left completed. It returns the subscriber
// as it now is, or ErrNotFound.
func (s *Store) Refund(ctx context.Context, id uuid.UUID) (*generation.Subscriber, error) {
	if err := s.stopCreations(ctx, id); err != nil {
		return nil, err
	}
	q := `UPDATE subscribers
		SET generation_status = CASE WHEN generation_status IN ('queued', 'generating', 'failed')
		                             THEN 'refunded' ELSE generation_status END,
		    updated_at = now()
		WHERE id = $1
		RETURNING ` + subscriberColumns
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, id))
	return sub, translate("refund", err)
}

// LockStripeEvent returns the inbox row of event id and locks it until the transaction
// ends, so that replays of one event wait on each other. It gives ErrNotFound for an id
// the inbox does not have. Use it inside WithTx.
func (s *Store) LockStripeEvent(ctx context.Context, id string) (StoredEvent, error) {
	q := `SELECT ` + storedEventColumns + ` FROM stripe_events WHERE event_id = $1 FOR UPDATE`
	rows, err := s.db.Query(ctx, q, id)
	if err != nil {
		return StoredEvent{}, translate("lock stripe event "+id, err)
	}
	ev, err := pgx.CollectExactlyOneRow(rows, scanStoredEvent)
	return ev, translate("lock stripe event "+id, err)
}

// ResolveStripeEvent gives an unmatched inbox row the outcome and subscriber that a
// replay found. It returns false, and changes nothing, when the row is not unmatched.
func (s *Store) ResolveStripeEvent(ctx context.Context, ev StripeEvent) (bool, error) {
	const q = `UPDATE stripe_events SET outcome = $2, subscriber_id = $3
		WHERE event_id = $1 AND outcome = 'unmatched'`
	tag, err := s.db.Exec(ctx, q, ev.ID, ev.Outcome, ev.SubscriberID)
	if err != nil {
		return false, translate("resolve stripe event "+ev.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}
