// This file applies an event: inbox row and effects in one transaction.

package checkout

import (
	"context"

	"photogen/generation"
	"photogen/store"
)

// Result is what applying an event did.
type Result struct {
	Outcome   store.EventOutcome
	Duplicate bool // the event id was already in the inbox: nothing was done
}

// Apply records ev (payload is its verified body) in the inbox and applies its effects
// in the same transaction: a payment marks the subscriber paid and enqueues their
// generation, a full refund stops it. An event id already in the inbox changes nothing
// (Duplicate). Events no subscriber matches are kept with outcome unmatched.
func Apply(ctx context.Context, st *store.Store, jobs generation.Inserter, ev Event, payload []byte) (Result, error) {
	var res Result
	err := st.WithTx(ctx, func(tx *store.Store) error {
		rec, sub, err := classify(ctx, tx, ev, payload)
		if err != nil {
			return err
		}
		fresh, err := tx.RecordStripeEvent(ctx, rec)
		if err != nil {
			return err
		}
		res = Result{Outcome: rec.Outcome, Duplicate: !fresh}
		if !fresh {
			return nil
		}
		return effects(ctx, tx, jobs, ev, rec.Outcome, sub)
	})
	return res, err
}

// effects does what an event's outcome means for its subscriber, in the caller's
// transaction: a payment marks them paid and enqueues their generation, a full refund
// stops it. Other outcomes do nothing.
func effects(ctx context.Context, tx *store.Store, jobs generation.Inserter, ev Event, outcome store.EventOutcome, sub *generation.Subscriber) error {
	var err error
	switch outcome {
	case store.OutcomeApplied:
		_, err = generation.Pay(ctx, tx, jobs, sub.ID, string(ev.Data.Object.PaymentIntent))
	case store.OutcomeRefunded:
		_, err = generation.Refund(ctx, tx, jobs, sub.ID)
	}
	return err
}

// classify matches ev to a subscriber and says what it will do: the inbox row to write
// and, for applied and refunded, the subscriber.
func classify(ctx context.Context, tx *store.Store, ev Event, payload []byte) (store.StripeEvent, *generation.Subscriber, error) {
	rec := store.StripeEvent{ID: ev.ID, Type: ev.Type, Outcome: store.OutcomeIgnored, Payload: payload}
	var match func(context.Context, *store.Store, Event) (*generation.Subscriber, error)
	outcome := store.OutcomeIgnored
	switch {
	case paymentSucceeded(ev):
		match, outcome = matchPayment, store.OutcomeApplied
	case ev.Type == "charge.refunded" && ev.Data.Object.Refunded:
		match, outcome = matchRefund, store.OutcomeRefunded
	default:
		return rec, nil, nil
	}
	sub, err := match(ctx, tx, ev)
	if err != nil {
		return rec, nil, err
	}
	rec.Outcome = store.OutcomeUnmatched
	if sub != nil {
		rec.Outcome, rec.SubscriberID = outcome, &sub.ID
	}
	return rec, sub, nil
}
