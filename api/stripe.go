// This file is the Stripe webhook: verify the signature on the raw bytes, then hand the
// event to checkout.

package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v86/webhook"

	"photogen/checkout"
	"photogen/store"
)

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
	// Verify on the raw bytes, before any decoding. stripe-go checks only the age; a
	// timestamp further ahead than the tolerance is refused too.
	header := c.GetHeader("Stripe-Signature")
	err = webhook.ValidatePayloadWithTolerance(body, header, s.cfg.WebhookSecret, s.cfg.WebhookTolerance)
	if at, ok := signedAt(header); err == nil && (!ok || time.Until(at) > s.cfg.WebhookTolerance) {
		err = errors.New("the signature's timestamp is too far in the future")
	}
	if err != nil {
		loggerFrom(c).WarnContext(c.Request.Context(), "stripe webhook refused", "reason", err.Error())
		renderError(c, errBadRequest("invalid_signature", "the Stripe-Signature header is missing, invalid, too old or from the future"))
		return
	}
	if err := checkJSONText(body); err != nil {
		renderError(c, err)
		return
	}
	ev, err := checkout.Decode(body)
	if err != nil {
		renderError(c, errBadRequest("malformed_event", err.Error()))
		return
	}
	ctx := c.Request.Context()
	res, err := checkout.Apply(ctx, s.store, s.jobs, ev, body)
	if err != nil {
		renderError(c, err)
		return
	}
	log := loggerFrom(c).With("event_id", ev.ID, "event_type", ev.Type)
	switch {
	case res.Duplicate:
		log.InfoContext(ctx, "stripe event already processed")
	case res.Outcome == store.OutcomeUnmatched:
		log.WarnContext(ctx, "stripe payment matches no subscriber; kept in stripe_events for an operator")
	default:
		log.InfoContext(ctx, "stripe event processed", "outcome", res.Outcome)
	}
	c.JSON(http.StatusOK, webhookResponse{Received: true, Duplicate: res.Duplicate, Outcome: string(res.Outcome)})
}

// signedAt reads the timestamp of a Stripe-Signature header ("t=...,v1=..."), the last
// one if several, as stripe-go does.
func signedAt(header string) (time.Time, bool) {
	var at time.Time
	found := false
	for _, pair := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(pair, "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			at, found = time.Unix(sec, 0), true
		}
	}
	return at, found
}
