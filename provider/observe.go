// This file times every provider call and counts creations, for metrics.

package provider

import (
	"context"
	"photogen/generation"
	"time"
)

// Observer receives every provider call: the metrics package implements it.
type Observer interface {
	ObserveProviderCall(op string, d time.Duration, err error)
	PredictionCreated()
}

// Observed is a Replicate whose calls are reported to an Observer.
type Observed struct {
	*Replicate
	obs Observer
}

// Observe returns r reporting every call to obs.
func Observe(r *Replicate, obs Observer) *Observed { return &Observed{Replicate: r, obs: obs} }

// Create creates as Replicate.Create does and reports it; a created prediction counts.
func (p *Observed) Create(ctx context.Context, prompt string, seed int64) (generation.Prediction, error) {
	start := time.Now()
	pred, err := p.Replicate.Create(ctx, prompt, seed)
	p.obs.ObserveProviderCall("create", time.Since(start), err)
	if err == nil {
		p.obs.PredictionCreated()
	}
	return pred, err
}

// Get reports the call as "get".
func (p *Observed) Get(ctx context.Context, id string) (generation.Prediction, error) {
	start := time.Now()
	pred, err := p.Replicate.Get(ctx, id)
	p.obs.ObserveProviderCall("get", time.Since(start), err)
	return pred, err
}

// Cancel reports the call as "cancel".
func (p *Observed) Cancel(ctx context.Context, id string) error {
	start := time.Now()
	err := p.Replicate.Cancel(ctx, id)
	p.obs.ObserveProviderCall("cancel", time.Since(start), err)
	return err
}

// Find reports the call as "list"; an adopted prediction was paid for, so it counts.
func (p *Observed) Find(ctx context.Context, seed int64, prompt string, since time.Time) (generation.Prediction, bool, error) {
	start := time.Now()
	pred, found, err := p.Replicate.Find(ctx, seed, prompt, since)
	p.obs.ObserveProviderCall("list", time.Since(start), err)
	if found {
		p.obs.PredictionCreated()
	}
	return pred, found, err
}
