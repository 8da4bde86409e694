// Package demo is a small client of photogen's HTTP API, with a Stripe-signed checkout
// event builder. `photogen demo` drives the whole flow with it; the end-to-end tests and
// benchmarks use it to talk to a real server process.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v86/webhook"
)

// Client calls one photogen server.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// Response is a raw answer: status, body and headers.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Subscriber is what sign-up returns.
type Subscriber struct {
	SubscriberID string `json:"subscriberId"`
	AccessToken  string `json:"accessToken"`
}

// Status is the status endpoint's answer.
type Status struct {
	State        string   `json:"state"`
	Paid         bool     `json:"paid"`
	TotalPhotos  int      `json:"totalPhotos"`
	TargetPhotos int      `json:"targetPhotos"`
	PhotoURLs    []string `json:"photoUrls"`
	UpdatedAt    string   `json:"updatedAt"`
	Error        *string  `json:"error"`
}

// Do sends one request with a JSON body (nil for none) and extra headers.
func (c *Client) Do(ctx context.Context, method, path string, body []byte, header http.Header) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: b, Header: resp.Header}, err
}

// CreateSubscriber signs up email with prompt.
func (c *Client) CreateSubscriber(ctx context.Context, email, prompt string) (Subscriber, error) {
	body, _ := json.Marshal(map[string]any{"email": email, "strategy": map[string]any{"prompt": prompt}})
	resp, err := c.Do(ctx, http.MethodPost, "/api/blueprint/subscribers", body, nil)
	if err != nil {
		return Subscriber{}, err
	}
	if resp.Status != http.StatusCreated {
		return Subscriber{}, fmt.Errorf("create subscriber: %d %s", resp.Status, resp.Body)
	}
	var s Subscriber
	return s, json.Unmarshal(resp.Body, &s)
}

// SendWebhook posts a Stripe event body signed with secret at time at.
func (c *Client) SendWebhook(ctx context.Context, secret string, payload []byte, at time.Time) (Response, error) {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return c.Do(ctx, http.MethodPost, "/webhooks/stripe", payload, http.Header{"Stripe-Signature": {signed.Header}})
}

// GetStatus polls the status endpoint with the access token.
func (c *Client) GetStatus(ctx context.Context, token string) (Status, error) {
	resp, err := c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return Status{}, err
	}
	if resp.Status != http.StatusOK {
		return Status{}, fmt.Errorf("status: %d %s", resp.Status, resp.Body)
	}
	var s Status
	return s, json.Unmarshal(resp.Body, &s)
}

// CheckoutCompleted returns a checkout.session.completed event, as Stripe sends it,
// paid, for the subscriber (client_reference_id) and email.
func CheckoutCompleted(eventID, subscriberID, email string) []byte {
	ev := map[string]any{
		"id": eventID, "object": "event", "api_version": "2025-03-31.basil",
		"created": time.Now().Unix(), "livemode": false, "pending_webhooks": 1,
		"type": "checkout.session.completed",
		"data": map[string]any{"object": map[string]any{
			"id": "cs_test_" + eventID, "object": "checkout.session", "mode": "payment",
			"client_reference_id": subscriberID, "customer_email": email, "payment_intent": PaymentIntent(eventID),
			"customer_details": map[string]any{"email": email},
			"payment_status":   "paid", "status": "complete", "amount_total": 2900, "currency": "usd",
		}},
	}
	b, _ := json.Marshal(ev)
	return b
}

// PaymentIntent is the payment intent id CheckoutCompleted gives the session of eventID.
func PaymentIntent(checkoutEventID string) string { return "pi_" + checkoutEventID }

// ChargeRefunded returns a charge.refunded event for a full refund of the charge paid
// through paymentIntent.
func ChargeRefunded(eventID, paymentIntent string) []byte {
	ev := map[string]any{
		"id": eventID, "object": "event", "api_version": "2025-03-31.basil",
		"created": time.Now().Unix(), "type": "charge.refunded",
		"data": map[string]any{"object": map[string]any{
			"id": "ch_" + eventID, "object": "charge", "payment_intent": paymentIntent,
			"amount": 2900, "amount_refunded": 2900, "refunded": true, "currency": "usd",
		}},
	}
	b, _ := json.Marshal(ev)
	return b
}
