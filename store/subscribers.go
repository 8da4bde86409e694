// This file is the subscriber's row: its columns as generation.Subscriber, sign-up, and
// the lookups by token, id, payment and email.

package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	"photogen/generation"
)

// subscriberColumns is the select list scanSubscriber reads, in order.
const subscriberColumns = `id, email, strategy->>'prompt', target_photos, photo_urls, generation_status,
	generation_error, paid_at, generated_at, updated_at, delay_reason, delayed_since`

type row interface{ Scan(dest ...any) error }

func scanSubscriber(r row) (*generation.Subscriber, error) {
	var s generation.Subscriber
	var reason *generation.DelayReason
	var since *time.Time
	err := r.Scan(&s.ID, &s.Email, &s.Prompt, &s.TargetPhotos, &s.PhotoURLs, &s.Status,
		&s.Error, &s.PaidAt, &s.GeneratedAt, &s.UpdatedAt, &reason, &since)
	if err != nil {
		return nil, err
	}
	if reason != nil && since != nil {
		s.Delay = &generation.Delay{Reason: *reason, Since: *since}
	}
	return &s, nil
}

// NewSubscriber is what CreateSubscriber needs.
type NewSubscriber struct {
	Email           string
	Strategy        map[string]any // must hold a string "prompt"
	AccessTokenHash []byte         // SHA-256 of the access token
	TargetPhotos    int
}

// CreateSubscriber inserts a subscriber awaiting payment and returns its id. An email
// already present, whatever its case, gives ErrConflict.
func (s *Store) CreateSubscriber(ctx context.Context, n NewSubscriber) (uuid.UUID, error) {
	const q = `INSERT INTO subscribers (email, strategy, access_token_hash, target_photos)
		VALUES ($1, $2, $3, $4) RETURNING id`
	var id uuid.UUID
	err := s.db.QueryRow(ctx, q, n.Email, n.Strategy, n.AccessTokenHash, n.TargetPhotos).Scan(&id)
	return id, translate("create subscriber", err)
}

// SubscriberByTokenHashQuery is SubscriberByTokenHash's statement, $1 the token's hash:
// the status endpoint's one query, which its benchmark also runs through pgbench as
// PostgreSQL's own rate.
const SubscriberByTokenHashQuery = `SELECT ` + subscriberColumns + ` FROM subscribers WHERE access_token_hash = $1`

// SubscriberByTokenHash returns the subscriber whose access token hashes to hash, or
// ErrNotFound. It is the status endpoint's one query, served by a unique index.
func (s *Store) SubscriberByTokenHash(ctx context.Context, hash []byte) (*generation.Subscriber, error) {
	sub, err := scanSubscriber(s.db.QueryRow(ctx, SubscriberByTokenHashQuery, hash))
	return sub, translate("subscriber by token", err)
}

// SubscriberByID returns the subscriber with id, or ErrNotFound.
func (s *Store) SubscriberByID(ctx context.Context, id uuid.UUID) (*generation.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers WHERE id = $1`
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, id))
	return sub, translate("subscriber by id", err)
}

// SubscriberByPaymentIntent returns the subscriber whose checkout was paid with the
// Stripe payment intent pi, or ErrNotFound.
func (s *Store) SubscriberByPaymentIntent(ctx context.Context, pi string) (*generation.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers WHERE stripe_payment_intent = $1`
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, pi))
	return sub, translate("subscriber by payment intent", err)
}

// SubscriberByEmail returns the subscriber with email, compared without case, or ErrNotFound.
func (s *Store) SubscriberByEmail(ctx context.Context, email string) (*generation.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers WHERE lower(email) = lower($1)`
	sub, err := scanSubscriber(s.db.QueryRow(ctx, q, email))
	return sub, translate("subscriber by email", err)
}
