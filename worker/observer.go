// This file reports what the worker does to an Observer, for metrics.

package worker

import (
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// Observer receives what the worker does, for metrics. The metrics package implements
// it; NopObserver ignores everything.
type Observer interface {
	ObserveJobRun(kind, outcome string, d time.Duration)
	PredictionFinished(status string)
	PhotosAppended(n int)
	// PhotoKept observes the time from a prediction's end to its photo in our bucket.
	PhotoKept(delay time.Duration)
	// GenerationCompleted observes the time from payment to the last photo.
	GenerationCompleted(d time.Duration)
	// LateWebhookChecked counts one check, with webhooks on, of a prediction late for
	// the model's pace; ended says whether it had ended (its webhook was lost).
	LateWebhookChecked(ended bool)
	// JobsHandedBack counts n jobs handed back by their own worker (handback.go).
	JobsHandedBack(n int)
	// GenerationDelayed counts a generation that began to wait out an outage
	// (delay.go); reason is a generation.DelayReason.
	GenerationDelayed(reason string)
}

// NopObserver is an Observer that records nothing.
type NopObserver struct{}

func (NopObserver) ObserveJobRun(string, string, time.Duration) {}
func (NopObserver) PredictionFinished(string)                   {}
func (NopObserver) PhotosAppended(int)                          {}
func (NopObserver) PhotoKept(time.Duration)                     {}
func (NopObserver) GenerationCompleted(time.Duration)           {}
func (NopObserver) LateWebhookChecked(bool)                     {}
func (NopObserver) JobsHandedBack(int)                          {}
func (NopObserver) GenerationDelayed(string)                    {}

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
