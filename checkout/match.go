// This file matches an event to a subscriber: which events pay, and how a payment or a
// refund is traced back to the subscriber it belongs to.

package checkout

import (
	"context"
	"errors"
	"photogen/generation"
	"photogen/store"

	"github.com/google/uuid"
)

func paymentSucceeded(ev Event) bool {
	switch ev.Type {
	case "checkout.session.completed":
		ps := ev.Data.Object.PaymentStatus
		return ps == "paid" || ps == "no_payment_required"
	case "checkout.session.async_payment_succeeded":
		return true
	}
	return false
}

// matchPayment matches a checkout session to a subscriber: by client_reference_id
// (our subscriber id) first, then by the customer's email. It returns nil when none does.
func matchPayment(ctx context.Context, tx *store.Store, ev Event) (*generation.Subscriber, error) {
	obj := ev.Data.Object
	var byID lookup
	if id, err := uuid.Parse(obj.ClientReferenceID); err == nil {
		byID = func() (*generation.Subscriber, error) { return tx.SubscriberByID(ctx, id) }
	}
	return firstFound(byID, byEmail(ctx, tx, obj.CustomerDetails.Email), byEmail(ctx, tx, obj.CustomerEmail))
}

// matchRefund matches a refunded charge to a subscriber: by the payment intent of the
// checkout that paid, then by the billing or receipt email. It returns nil when none does.
func matchRefund(ctx context.Context, tx *store.Store, ev Event) (*generation.Subscriber, error) {
	obj := ev.Data.Object
	var byIntent lookup
	if obj.PaymentIntent != "" {
		byIntent = func() (*generation.Subscriber, error) {
			return tx.SubscriberByPaymentIntent(ctx, string(obj.PaymentIntent))
		}
	}
	return firstFound(byIntent, byEmail(ctx, tx, obj.BillingDetails.Email), byEmail(ctx, tx, obj.ReceiptEmail))
}

// lookup finds a subscriber or returns store.ErrNotFound; nil means "nothing to look up".
type lookup func() (*generation.Subscriber, error)

func byEmail(ctx context.Context, tx *store.Store, email string) lookup {
	if email == "" {
		return nil
	}
	return func() (*generation.Subscriber, error) { return tx.SubscriberByEmail(ctx, email) }
}

// firstFound runs the lookups in order and returns the first subscriber found, or nil.
func firstFound(lookups ...lookup) (*generation.Subscriber, error) {
	for _, l := range lookups {
		if l == nil {
			continue
		}
		sub, err := l()
		if !errors.Is(err, store.ErrNotFound) {
			return sub, err
		}
	}
	return nil, nil
}
