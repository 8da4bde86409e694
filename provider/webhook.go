// This file verifies Replicate's webhook deliveries with replicate-go's own check, adds
// the age check it lacks, and reads the prediction they carry.

package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/replicate/replicate-go"

	"photogen/generation"
)

// The reasons a delivery is refused.
var (
	ErrBadSignature  = errors.New("the webhook signature is missing or invalid")
	ErrStale         = errors.New("the webhook timestamp is too old or too far ahead")
	ErrNotPrediction = errors.New("the webhook body is not a prediction")
)

// DefaultWebhookTolerance is how far a delivery's webhook-timestamp may be from now.
const DefaultWebhookTolerance = 5 * time.Minute

// WebhookVerifier checks deliveries to POST /webhooks/replicate. Its secret is
// REPLICATE_WEBHOOK_SECRET or, unset, the account's default signing secret, fetched once
// from Replicate on first use.
type WebhookVerifier struct {
	client    *replicate.Client
	seedInput string
	tolerance time.Duration
	now       func() time.Time

	mu     sync.Mutex
	secret *replicate.WebhookSigningSecret
}

// NewWebhookVerifier returns a verifier with secret (whsec_...), or, when secret is
// empty, one that fetches the account's signing secret with cfg's client.
func NewWebhookVerifier(cfg ReplicateConfig, secret string) (*WebhookVerifier, error) {
	cfg = cfg.WithDefaults()
	v := &WebhookVerifier{tolerance: DefaultWebhookTolerance, now: time.Now, seedInput: cfg.SeedInput}
	if secret != "" {
		v.secret = &replicate.WebhookSigningSecret{Key: secret}
		return v, nil
	}
	r, err := NewReplicate(cfg)
	if err != nil {
		return nil, fmt.Errorf("REPLICATE_WEBHOOK_SECRET is unset and the account's secret cannot be fetched: %w", err)
	}
	v.client = r.client
	return v, nil
}

// Verify checks a delivery's signature (replicate.ValidateWebhookRequest) and its
// timestamp (within 5 minutes of now, which the library does not check), then decodes
// the prediction it carries. Its errors are ErrBadSignature, ErrStale and
// ErrNotPrediction, or a failure to fetch the secret.
func (v *WebhookVerifier) Verify(ctx context.Context, header http.Header, body []byte) (generation.Prediction, error) {
	secret, err := v.signingSecret(ctx)
	if err != nil {
		return generation.Prediction{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return generation.Prediction{}, err
	}
	req.Header = header.Clone()
	if ok, err := replicate.ValidateWebhookRequest(req, secret); err != nil || !ok {
		return generation.Prediction{}, ErrBadSignature
	}
	ts, err := strconv.ParseInt(header.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		return generation.Prediction{}, ErrBadSignature
	}
	if age := v.now().Sub(time.Unix(ts, 0)); age > v.tolerance || age < -v.tolerance {
		return generation.Prediction{}, ErrStale
	}
	var p replicate.Prediction
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" || p.Status == "" {
		return generation.Prediction{}, ErrNotPrediction
	}
	out := fromReplicate(&p)
	if s, ok := p.Input[v.seedInput].(float64); ok {
		out.Seed = int64(s)
	}
	out.Prompt, _ = p.Input["prompt"].(string)
	return out, nil
}

func (v *WebhookVerifier) signingSecret(ctx context.Context) (replicate.WebhookSigningSecret, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.secret == nil {
		s, err := v.client.GetDefaultWebhookSecret(ctx)
		if err != nil {
			return replicate.WebhookSigningSecret{}, fmt.Errorf("fetch Replicate's webhook signing secret: %w", err)
		}
		v.secret = s
	}
	return *v.secret, nil
}

// Refusal returns the error code a refused delivery is answered with, and whether err
// is a refusal at all (rather than, say, a failure to fetch the secret).
func Refusal(err error) (code string, ok bool) {
	switch {
	case errors.Is(err, ErrBadSignature):
		return "invalid_signature", true
	case errors.Is(err, ErrStale):
		return "stale_signature", true
	case errors.Is(err, ErrNotPrediction):
		return "malformed_prediction", true
	}
	return "", false
}
