// This file is the Stripe webhook: verify the signature on the raw bytes, then hand the
// event to checkout.

package api

import (
	"net/http"

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
	// Verify on the raw bytes, before any decoding.
	if err := webhook.ValidatePayloadWithTolerance(body, c.GetHeader("Stripe-Signature"), s.cfg.WebhookSecret, s.cfg.WebhookTolerance); err != nil {
		loggerFrom(c).WarnContext(c.Request.Context(), "stripe webhook refused", "reason", err.Error())
		renderError(c, errBadRequest("invalid_signature", "the Stripe-Signature header is missing, invalid or too old"))
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
