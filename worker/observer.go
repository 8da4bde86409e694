package worker

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// Observer receives what the worker does, for metrics. The metrics package implements
// it; NopObserver ignores everything.
type Observer interface {
	ObserveJobRun(kind, outcome string, d time.Duration)
	PredictionCreated()
	PredictionFinished(status string)
	ObserveProviderCall(op string, d time.Duration, err error)
	PhotosAppended(n int)
}

// NopObserver is an Observer that records nothing.
type NopObserver struct{}

func (NopObserver) ObserveJobRun(string, string, time.Duration)      {}
func (NopObserver) PredictionCreated()                               {}
func (NopObserver) PredictionFinished(string)                        {}
func (NopObserver) ObserveProviderCall(string, time.Duration, error) {}
func (NopObserver) PhotosAppended(int)                               {}

// jobOutcome names what a Work result makes River do.
func jobOutcome(err error) string {
	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	switch {
	case err == nil:
		return "completed"
	case errors.As(err, &snooze):
		return "snoozed"
	case errors.As(err, &cancel):
		return "cancelled"
	}
	return "retried"
}

// observedProvider times every provider call and counts creations.
type observedProvider struct {
	Provider
	obs Observer
}

func (p observedProvider) Create(ctx context.Context, prompt string, seed int64) (Prediction, error) {
	start := time.Now()
	pred, err := p.Provider.Create(ctx, prompt, seed)
	p.obs.ObserveProviderCall("create", time.Since(start), err)
	if err == nil {
		p.obs.PredictionCreated()
	}
	return pred, err
}

func (p observedProvider) Get(ctx context.Context, id string) (Prediction, error) {
	start := time.Now()
	pred, err := p.Provider.Get(ctx, id)
	p.obs.ObserveProviderCall("get", time.Since(start), err)
	return pred, err
}

func (p observedProvider) Cancel(ctx context.Context, id string) error {
	start := time.Now()
	err := p.Provider.Cancel(ctx, id)
	p.obs.ObserveProviderCall("cancel", time.Since(start), err)
	return err
}

func (p observedProvider) Find(ctx context.Context, seed int64, prompt string, since time.Time) (Prediction, bool, error) {
	start := time.Now()
	pred, found, err := p.Provider.Find(ctx, seed, prompt, since)
	p.obs.ObserveProviderCall("list", time.Since(start), err)
	if found {
		p.obs.PredictionCreated() // an adopted prediction was paid for too
	}
	return pred, found, err
}
