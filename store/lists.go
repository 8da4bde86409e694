// This file lists what operators look for: generations by state (failed, stuck) and the
// Stripe events of the webhook inbox by outcome (payments that matched no subscriber).

package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"photogen/generation"
)

// GenerationFilter selects generations for ListGenerations.
type GenerationFilter struct {
	Statuses  []generation.Status // any of these; none means every state
	OlderThan time.Duration       // when positive, only those not updated for at least this long
	Limit     int                 // at most this many; must be positive
}

// ListGenerations returns the subscribers whose generation f selects, the longest
// untouched first (updated_at: a state change or an appended photo).
func (s *Store) ListGenerations(ctx context.Context, f GenerationFilter) ([]*generation.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers
		WHERE (cardinality($1::text[]) = 0 OR generation_status = ANY($1::text[]))
		  AND updated_at <= now() - make_interval(secs => $2)
		ORDER BY updated_at, id
		LIMIT $3`
	statuses := make([]string, len(f.Statuses))
	for i, st := range f.Statuses {
		statuses[i] = string(st)
	}
	rows, err := s.db.Query(ctx, q, statuses, max(f.OlderThan, 0).Seconds(), f.Limit)
	if err != nil {
		return nil, translate("list generations", err)
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*generation.Subscriber, error) { return scanSubscriber(r) })
	return subs, translate("list generations", err)
}

// StoredEvent is a row of the webhook inbox as operators see it.
type StoredEvent struct {
	StripeEvent
	ReceivedAt time.Time
	// Email is the first email the event names (the checkout's customer, or the
	// charge's billing or receipt address); empty when it names none.
	Email string
	// Reference is the checkout's client_reference_id (our subscriber id when the front
	// end sets it); empty when absent.
	Reference string
}

// storedEventColumns is what scanStoredEvent reads, in order.
const storedEventColumns = `event_id, event_type, outcome, subscriber_id, payload, received_at,
	coalesce(nullif(payload#>>'{data,object,customer_details,email}', ''), nullif(payload#>>'{data,object,customer_email}', ''),
	         nullif(payload#>>'{data,object,billing_details,email}', ''), payload#>>'{data,object,receipt_email}', ''),
	coalesce(payload#>>'{data,object,client_reference_id}', '')`

func scanStoredEvent(r pgx.CollectableRow) (StoredEvent, error) {
	var e StoredEvent
	err := r.Scan(&e.ID, &e.Type, &e.Outcome, &e.SubscriberID, &e.Payload, &e.ReceivedAt, &e.Email, &e.Reference)
	return e, err
}

// ListStripeEvents returns the inbox's events with outcome (every outcome when empty),
// oldest first, at most limit of them.
func (s *Store) ListStripeEvents(ctx context.Context, outcome EventOutcome, limit int) ([]StoredEvent, error) {
	q := `SELECT ` + storedEventColumns + ` FROM stripe_events
		WHERE ($1 = '' OR outcome = $1) ORDER BY received_at, event_id LIMIT $2`
	rows, err := s.db.Query(ctx, q, string(outcome), limit)
	if err != nil {
		return nil, translate("list stripe events", err)
	}
	events, err := pgx.CollectRows(rows, scanStoredEvent)
	return events, translate("list stripe events", err)
}
