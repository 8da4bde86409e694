// Package checkout applies Stripe's checkout and refund events: it matches an event to
// a subscriber, records it in the webhook inbox (stripe_events, once per event id) and
// hands its effect to the generation use-cases, all in one transaction. The api calls
// it for each verified webhook; the operator CLI replays stored events through it.
package checkout

import (
	"encoding/json"
	"errors"
)

// Event is the part of a Stripe event photogen reads. Decoding only these fields,
// after the signature is verified, accepts events of any Stripe API version.
type Event struct {
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

// ErrMalformed is returned by Decode for a body that is not an event with an id and a
// type, or whose identifiers are longer than maxIdentifier.
var ErrMalformed = errors.New("the event is not valid JSON with an id and a type of at most 255 bytes")

// maxIdentifier is the longest event id, type or payment intent accepted: they are
// stored in indexed columns, and Stripe's are well under it.
const maxIdentifier = 255

// Decode reads the fields photogen uses from a verified event body.
func Decode(body []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" {
		return Event{}, ErrMalformed
	}
	if max(len(ev.ID), len(ev.Type), len(ev.Data.Object.PaymentIntent)) > maxIdentifier {
		return Event{}, ErrMalformed
	}
	return ev, nil
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
