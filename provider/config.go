// This file holds the Replicate provider's settings, their defaults and their checks.

package provider

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultReplicateBaseURL is Replicate's own API.
const DefaultReplicateBaseURL = "https://api.replicate.com/v1"

// ReplicateConfig configures the Replicate provider. Zero fields take the defaults of
// WithDefaults.
type ReplicateConfig struct {
	Token       string        // REPLICATE_API_TOKEN
	BaseURL     string        // REPLICATE_BASE_URL; default DefaultReplicateBaseURL
	Model       string        // REPLICATE_MODEL: "owner/name" or "owner/name:version"; default black-forest-labs/flux-schnell
	HTTPTimeout time.Duration // per request; default 30s, or SyncWait+15s when longer
	// SeedInput is the model input that carries the random seed photogen uses to find a
	// prediction whose create answer was lost; default "seed" (flux models). "none"
	// sends no seed, and such predictions can then not be found again.
	SeedInput string
	// WebhookURL is REPLICATE_WEBHOOK_URL, the public URL of the api's
	// POST /webhooks/replicate. Set, every create asks for a webhook when it completes.
	WebhookURL string
	// SyncWait is REPLICATE_SYNC_WAIT: without a webhook URL, how long a create asks
	// Replicate to hold its answer until the prediction is final (Prefer: wait);
	// 1s..60s, default 10s.
	SyncWait time.Duration
	// Transport carries the client's requests, under photogen's own transport (Prefer,
	// Retry-After); default http.DefaultTransport. The wiring passes tracing's.
	Transport http.RoundTripper
}

// WithDefaults returns c with zero fields set to their defaults.
func (c ReplicateConfig) WithDefaults() ReplicateConfig {
	if c.BaseURL == "" {
		c.BaseURL = DefaultReplicateBaseURL
	}
	if c.Model == "" {
		c.Model = "black-forest-labs/flux-schnell"
	}
	if c.SeedInput == "" {
		c.SeedInput = "seed"
	}
	if c.SyncWait == 0 {
		c.SyncWait = 10 * time.Second
	}
	if c.HTTPTimeout == 0 {
		c.HTTPTimeout = max(30*time.Second, c.SyncWait+15*time.Second)
	}
	return c
}

// Validate reports every setting that cannot work, each error naming its field first
// (the command line names the variable instead).
func (c ReplicateConfig) Validate() error {
	var errs []error
	if c.Token == "" {
		errs = append(errs, errors.New("Token is required"))
	}
	if owner, model, _ := c.modelParts(); owner == "" || model == "" || strings.Contains(model, "/") {
		errs = append(errs, fmt.Errorf("Model %q: want owner/name or owner/name:version", c.Model))
	}
	if c.HTTPTimeout < 0 {
		errs = append(errs, errors.New("HTTPTimeout must not be negative"))
	}
	if c.SyncWait < time.Second || c.SyncWait > time.Minute || c.SyncWait%time.Second != 0 {
		errs = append(errs, fmt.Errorf("SyncWait %s: want whole seconds from 1s to 60s", c.SyncWait))
	}
	if c.HTTPTimeout > 0 && c.HTTPTimeout <= c.SyncWait {
		errs = append(errs, fmt.Errorf("HTTPTimeout %s must exceed SyncWait %s", c.HTTPTimeout, c.SyncWait))
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("WebhookURL %q: want an absolute http(s) URL", c.WebhookURL))
		}
	}
	return errors.Join(errs...)
}

func (c ReplicateConfig) modelParts() (owner, model, version string) {
	name, version, _ := strings.Cut(c.Model, ":")
	owner, model, _ = strings.Cut(name, "/")
	return owner, model, version
}
