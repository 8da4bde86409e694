// Package provider is photogen's image provider: Replicate through the unchanged
// replicate-go client, with its own HTTP client and transport (timeouts, no client-side
// retries or sleeps, Retry-After handed to the caller), and its errors translated into
// Error. The worker uses it behind a small interface of its own; tests point it at
// internal/fakereplicate.
package provider

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/replicate/replicate-go"

	"photogen/generation"
)

// Replicate is the provider backed by replicate-go. It creates one-output predictions
// and never lets the client retry or sleep on its own: retries belong to the job.
type Replicate struct {
	client       *replicate.Client
	owner, model string
	version      string
	seedInput    string
	token        string
	http         *http.Client
	webhook      *replicate.Webhook // nil: creates ask for a synchronous answer instead
	syncWait     time.Duration
}

// NewReplicate returns a Replicate provider, or an error for a missing token or a model
// that is not "owner/name[:version]".
func NewReplicate(cfg ReplicateConfig) (*Replicate, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	owner, model, version := cfg.modelParts()
	if cfg.SeedInput == "none" {
		cfg.SeedInput = ""
	}
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	httpClient := &http.Client{Timeout: cfg.HTTPTimeout, Transport: retryAfterTransport{next: base}}
	client, err := replicate.NewClient(
		replicate.WithToken(cfg.Token),
		replicate.WithBaseURL(cfg.BaseURL),
		replicate.WithHTTPClient(httpClient),
		// One attempt: the client's retry loop sleeps without watching the context, even
		// after its last attempt; retries belong to the job (see retryAfterTransport).
		replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}),
		replicate.WithUserAgent("photogen"),
	)
	if err != nil {
		return nil, fmt.Errorf("replicate client: %w", err)
	}
	r := &Replicate{client: client, owner: owner, model: model, version: version, seedInput: cfg.SeedInput,
		token: cfg.Token, http: httpClient, syncWait: cfg.SyncWait}
	if cfg.WebhookURL != "" {
		r.webhook = &replicate.Webhook{URL: cfg.WebhookURL, Events: []replicate.WebhookEventType{replicate.WebhookEventCompleted}}
	}
	return r, nil
}

// Create starts a one-output prediction for prompt.
//
// With a webhook URL configured, the create asks Replicate to call it when the
// prediction completes and returns at once. Without one, it asks Replicate to hold the
// answer (Prefer: wait) up to SyncWait, so that a fast model's prediction comes back
// final from this one call; a slower one comes back in flight, and is checked later.
func (r *Replicate) Create(ctx context.Context, prompt string, seed int64) (generation.Prediction, error) {
	ctx, hold := withRetryAfter(ctx)
	if r.webhook == nil {
		ctx = withPreferWait(ctx, r.syncWait)
	}
	input := replicate.PredictionInput{"prompt": prompt, "num_outputs": 1}
	if r.seedInput != "" {
		input[r.seedInput] = seed
	}
	var p *replicate.Prediction
	var err error
	if r.version != "" {
		p, err = r.client.CreatePrediction(ctx, r.version, input, r.webhook, false)
	} else {
		p, err = r.client.CreatePredictionWithModel(ctx, r.owner, r.model, input, r.webhook, false)
	}
	if err != nil {
		return generation.Prediction{}, fmt.Errorf("create prediction: %w", translateReplicate(err, hold))
	}
	return fromReplicate(p), nil
}

// Get fetches the prediction's current state.
func (r *Replicate) Get(ctx context.Context, id string) (generation.Prediction, error) {
	ctx, hold := withRetryAfter(ctx)
	p, err := r.client.GetPrediction(ctx, id)
	if err != nil {
		return generation.Prediction{}, fmt.Errorf("get prediction %s: %w", id, translateReplicate(err, hold))
	}
	return fromReplicate(p), nil
}

// Cancel cancels the prediction at Replicate.
func (r *Replicate) Cancel(ctx context.Context, id string) error {
	ctx, hold := withRetryAfter(ctx)
	if _, err := r.client.CancelPrediction(ctx, id); err != nil {
		return fmt.Errorf("cancel prediction %s: %w", id, translateReplicate(err, hold))
	}
	return nil
}

func fromReplicate(p *replicate.Prediction) generation.Prediction {
	out := generation.Prediction{ID: p.ID, Status: generation.PredictionStatus(p.Status)}
	switch o := p.Output.(type) {
	case string:
		out.OutputURLs = []string{o}
	case []any:
		for _, v := range o {
			if s, ok := v.(string); ok && s != "" {
				out.OutputURLs = append(out.OutputURLs, s)
			}
		}
	}
	if p.Error != nil {
		out.Error = fmt.Sprint(p.Error)
	}
	return out
}

// Webhooks reports whether creates ask Replicate for a webhook (else they wait for a
// synchronous answer, and what is still running is checked later).
func (r *Replicate) Webhooks() bool { return r.webhook != nil }
