// This file holds the Replicate provider's settings, their defaults and their checks.

package provider

import (
	"errors"
	"fmt"
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
	HTTPTimeout time.Duration // per request; default 30s
	// SeedInput is the model input that carries the random seed photogen uses to find a
	// prediction whose create answer was lost; default "seed" (flux models). "none"
	// sends no seed, and such predictions can then not be found again.
	SeedInput string
}

// WithDefaults returns c with zero fields set to their defaults.
func (c ReplicateConfig) WithDefaults() ReplicateConfig {
	if c.BaseURL == "" {
		c.BaseURL = DefaultReplicateBaseURL
	}
	if c.Model == "" {
		c.Model = "black-forest-labs/flux-schnell"
	}
	if c.HTTPTimeout == 0 {
		c.HTTPTimeout = 30 * time.Second
	}
	if c.SeedInput == "" {
		c.SeedInput = "seed"
	}
	return c
}

// Validate reports every setting that cannot work.
func (c ReplicateConfig) Validate() error {
	var errs []error
	if c.Token == "" {
		errs = append(errs, errors.New("REPLICATE_API_TOKEN is required"))
	}
	if owner, model, _ := c.modelParts(); owner == "" || model == "" || strings.Contains(model, "/") {
		errs = append(errs, fmt.Errorf("REPLICATE_MODEL %q: want owner/name or owner/name:version", c.Model))
	}
	if c.HTTPTimeout < 0 {
		errs = append(errs, errors.New("the provider's HTTP timeout must not be negative"))
	}
	return errors.Join(errs...)
}

func (c ReplicateConfig) modelParts() (owner, model, version string) {
	name, version, _ := strings.Cut(c.Model, ":")
	owner, model, _ = strings.Cut(name, "/")
	return owner, model, version
}
