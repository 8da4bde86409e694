package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v86/webhook"

	"photogen/store"
	"photogen/worker"
)

// stripeEvent is the part of a Stripe event photogen reads. Decoding only these fields,
// after the signature is verified, accepts events of any Stripe API version.
type stripeEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ClientReferenceID string `json:"client_reference_id"`
			CustomerEmail     string `json:"customer_email"`
			CustomerDetails   struct {
				Email string `json:"email"`
			} `json:"customer_details"`
			PaymentStatus string     `json:"payment_status"`
			PaymentIntent idOrObject `json:"payment_intent"`
			// charge.refunded: the charge, fully refunded when Refunded is true.
			Refunded       bool   `json:"refunded"`
			ReceiptEmail   string `json:"receipt_email"`
			BillingDetails struct {
				Email string `json:"email"`
			} `json:"billing_details"`
		} `json:"object"`
	} `json:"data"`
}

type webhookResponse struct {
	Received  bool   `json:"received"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
}

func (s *Server) handleStripeWebhook(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		renderError(c, err)
		return
	}
	// Verify on the raw bytes, before any decoding.
	if err := webhook.ValidatePayloadWithTolerance(body, c.GetHeader("Stripe-Signature"), s.cfg.WebhookSecret, s.cfg.WebhookTolerance); err != nil {
		loggerFrom(c).WarnContext(c.Request.Context(), "stripe webhook refused", "reason", err.Error())
		renderError(c, errBadRequest("invalid_signature", "the Stripe-Signature header is missing, invalid or too old"))
		return
	}
	var ev stripeEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		renderError(c, errBadRequest("malformed_event", "the event is not valid JSON with an id and a type"))
		return
	}
	resp, err := s.applyStripeEvent(c.Request.Context(), ev, body)
	if err != nil {
		renderError(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}

// applyStripeEvent records the event in the inbox and applies its effects in the same
// transaction: mark the subscriber paid and enqueue their generation job. An event id
// already in the inbox changes nothing. Events no subscriber matches are kept
// (outcome unmatched) and logged for operators.
func (s *Server) applyStripeEvent(ctx context.Context, ev stripeEvent, payload []byte) (webhookResponse, error) {
	log := s.logger.With("event_id", ev.ID, "event_type", ev.Type)
	var resp webhookResponse
	err := s.store.WithTx(ctx, func(tx *store.Store, raw pgx.Tx) error {
		rec := store.StripeEvent{ID: ev.ID, Type: ev.Type, Outcome: store.OutcomeIgnored, Payload: payload}
		var sub *store.Subscriber
		var err error
		switch {
		case paymentSucceeded(ev):
			if sub, err = findSubscriber(ctx, tx, ev); err != nil {
				return err
			}
			rec.Outcome = store.OutcomeUnmatched
			if sub != nil {
				rec.Outcome, rec.SubscriberID = store.OutcomeApplied, &sub.ID
			}
		case ev.Type == "charge.refunded" && ev.Data.Object.Refunded:
			if sub, err = findRefunded(ctx, tx, ev); err != nil {
				return err
			}
			rec.Outcome = store.OutcomeUnmatched
			if sub != nil {
				rec.Outcome, rec.SubscriberID = store.OutcomeRefunded, &sub.ID
			}
		}
		fresh, err := tx.RecordStripeEvent(ctx, rec)
		if err != nil {
			return err
		}
		resp = webhookResponse{Received: true, Duplicate: !fresh, Outcome: string(rec.Outcome)}
		if !fresh {
			return nil
		}
		switch rec.Outcome {
		case store.OutcomeRefunded:
			if sub, err = tx.Refund(ctx, sub.ID); err != nil {
				return err
			}
			if sub.Status == store.StatusRefunded {
				return worker.EnqueueCancelTx(ctx, s.river, raw, sub.ID)
			}
			return nil
		case store.OutcomeApplied:
		default:
			return nil
		}
		if sub, err = tx.MarkPaid(ctx, sub.ID, string(ev.Data.Object.PaymentIntent)); err != nil {
			return err
		}
		if sub.Status == store.StatusQueued || sub.Status == store.StatusGenerating {
			_, err = worker.EnqueueTx(ctx, s.river, raw, sub.ID)
		}
		return err
	})
	if err != nil {
		return webhookResponse{}, err
	}
	switch {
	case resp.Duplicate:
		log.InfoContext(ctx, "stripe event already processed")
	case resp.Outcome == string(store.OutcomeUnmatched):
		log.WarnContext(ctx, "stripe payment matches no subscriber; kept in stripe_events for an operator")
	default:
		log.InfoContext(ctx, "stripe event processed", "outcome", resp.Outcome)
	}
	return resp, nil
}

func paymentSucceeded(ev stripeEvent) bool {
	switch ev.Type {
	case "checkout.session.completed":
		ps := ev.Data.Object.PaymentStatus
		return ps == "paid" || ps == "no_payment_required"
	case "checkout.session.async_payment_succeeded":
		return true
	}
	return false
}

// findSubscriber matches a checkout session to a subscriber: by client_reference_id
// (our subscriber id) first, then by the customer's email. It returns nil when none does.
func findSubscriber(ctx context.Context, tx *store.Store, ev stripeEvent) (*store.Subscriber, error) {
	obj := ev.Data.Object
	var byID lookup
	if id, err := uuid.Parse(obj.ClientReferenceID); err == nil {
		byID = func() (*store.Subscriber, error) { return tx.SubscriberByID(ctx, id) }
	}
	return firstFound(byID, byEmail(ctx, tx, obj.CustomerDetails.Email), byEmail(ctx, tx, obj.CustomerEmail))
}

// findRefunded matches a refunded charge to a subscriber: by the payment intent of the
// checkout that paid, then by the billing or receipt email. It returns nil when none does.
func findRefunded(ctx context.Context, tx *store.Store, ev stripeEvent) (*store.Subscriber, error) {
	obj := ev.Data.Object
	var byIntent lookup
	if obj.PaymentIntent != "" {
		byIntent = func() (*store.Subscriber, error) { return tx.SubscriberByPaymentIntent(ctx, string(obj.PaymentIntent)) }
	}
	return firstFound(byIntent, byEmail(ctx, tx, obj.BillingDetails.Email), byEmail(ctx, tx, obj.ReceiptEmail))
}

// lookup finds a subscriber or returns store.ErrNotFound; nil means "nothing to look up".
type lookup func() (*store.Subscriber, error)

func byEmail(ctx context.Context, tx *store.Store, email string) lookup {
	if email == "" {
		return nil
	}
	return func() (*store.Subscriber, error) { return tx.SubscriberByEmail(ctx, email) }
}

// firstFound runs the lookups in order and returns the first subscriber found, or nil.
func firstFound(lookups ...lookup) (*store.Subscriber, error) {
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

// idOrObject decodes a Stripe reference that is an id string, or an expanded object
// with an "id", or null.
type idOrObject string

func (r *idOrObject) UnmarshalJSON(b []byte) error {
	var id string
	if err := json.Unmarshal(b, &id); err == nil {
		*r = idOrObject(id)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*r = idOrObject(obj.ID)
	return nil
}
