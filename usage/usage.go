// Package usage is the one home of the monthly usage counters (resumes and reviews a
// month, by default): their limits, the month rule, consuming one use with an optional
// Idempotency-Key, the hourly cleanup of expired keys, and their metrics. The counting
// itself is the locked SQL function consume_usage (store/); the api's handlers only
// bind, call Service and render.
package usage

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"photogen/store"
)

// ErrUnknownCounter is returned for a counter that has no configured limit.
var ErrUnknownCounter = errors.New("unknown counter")

// ErrKeyReused is returned when an Idempotency-Key already answered another counter.
var ErrKeyReused = store.ErrKeyReused

// PeriodStart is the month rule, the one place photogen computes it: a count belongs to
// the calendar month, in UTC, of the call. consume_usage applies the same rule in SQL.
func PeriodStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// ResetsAt is when the count of the period that began at start resets.
func ResetsAt(start time.Time) time.Time { return start.UTC().AddDate(0, 1, 0) }

// Result is one counter's state after a consume call.
type Result struct {
	Counter     string
	Accepted    bool // the call was counted
	Used        int
	Limit       int
	PeriodStart time.Time
}

// Remaining is how many uses are left this month.
func (r Result) Remaining() int { return max(0, r.Limit-r.Used) }

// Answer is what a consume call answered, kept byte for byte for Idempotency-Key replays.
type Answer struct {
	Status int
	Body   []byte
}

// Service consumes and lists counters under the configured limits.
type Service struct {
	store   *store.Store
	limits  Limits
	metrics *Metrics
}

// NewService returns a Service counting in s under limits; m may be nil.
func NewService(s *store.Store, limits Limits, m *Metrics) *Service {
	return &Service{store: s, limits: limits, metrics: m}
}

// Consume counts one use of counter for user if the month's count stays within its
// limit, and returns the answer render makes of the result. With a key, the key is
// claimed, the use counted and the answer stored in one transaction, so a retry, even a
// parallel one, gets the first answer's exact bytes and consumes nothing more. It
// returns ErrUnknownCounter and ErrKeyReused for the caller's mistakes.
func (s *Service) Consume(ctx context.Context, user uuid.UUID, counter, key string, render func(Result) (Answer, error)) (Answer, error) {
	limit, ok := s.limits[counter]
	if !ok {
		return Answer{}, ErrUnknownCounter
	}
	if key == "" {
		r, err := s.consume(ctx, s.store, user, counter, limit)
		if err != nil {
			return Answer{}, err
		}
		return render(r)
	}
	var ans Answer
	err := s.store.WithTx(ctx, func(tx *store.Store) error {
		stored, err := tx.ClaimIdempotencyKey(ctx, user, key, counter)
		if err != nil {
			return err
		}
		if stored != nil {
			ans = Answer{Status: stored.Status, Body: stored.Body}
			return nil
		}
		r, err := s.consume(ctx, tx, user, counter, limit)
		if err != nil {
			return err
		}
		if ans, err = render(r); err != nil {
			return err
		}
		return tx.StoreIdempotentAnswer(ctx, user, key, store.StoredAnswer{Status: ans.Status, Body: ans.Body})
	})
	return ans, err
}

func (s *Service) consume(ctx context.Context, db *store.Store, user uuid.UUID, counter string, limit int) (Result, error) {
	u, err := db.ConsumeUsage(ctx, user, counter, limit)
	if err != nil {
		return Result{}, err
	}
	s.metrics.Consumed(counter, u.Accepted)
	return Result{Counter: counter, Accepted: u.Accepted, Used: u.Used, Limit: limit, PeriodStart: u.PeriodStart}, nil
}

// List returns every configured counter's state for user this month, sorted by name.
func (s *Service) List(ctx context.Context, user uuid.UUID, now time.Time) ([]Result, error) {
	start := PeriodStart(now)
	used, err := s.store.UsageFor(ctx, user, start)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(s.limits))
	for _, name := range s.limits.Names() {
		out = append(out, Result{Counter: name, Used: used[name], Limit: s.limits[name], PeriodStart: start})
	}
	return out, nil
}
