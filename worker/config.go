// This file holds the worker's settings, their defaults and their checks.

package worker

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the generation worker's knobs. Zero values take the defaults below
// (WithDefaults); Validate rejects what cannot work.
type Config struct {
	BatchSize         int           // predictions in flight per subscriber; default 5
	PredictionBudget  int           // predictions a subscriber may cost in all; default target+10
	Concurrency       int           // jobs worked at once by one process; default 10
	PollInterval      time.Duration // between GETs of an in-flight prediction; default 1s
	PredictionTimeout time.Duration // after this a prediction is cancelled and replaced; default 5m
	JobTimeout        time.Duration // one attempt of a job; default 10m
	RescueAfter       time.Duration // a running job older than this is rescued; default JobTimeout+1m
	FetchPollInterval time.Duration // River's fallback poll when no notification arrives; default 1s
	PerMinute         int           // prediction creations a minute, all workers together; default 600, -1 for no limit
	SoftStop          time.Duration // on shutdown, how long running jobs may finish before they are cancelled; default 30s
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.BatchSize == 0 {
		c.BatchSize = 5
	}
	if c.Concurrency == 0 {
		c.Concurrency = 10
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.PredictionTimeout == 0 {
		c.PredictionTimeout = 5 * time.Minute
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = 10 * time.Minute
	}
	if c.PerMinute == 0 {
		c.PerMinute = 600
	}
	if c.SoftStop == 0 {
		c.SoftStop = 30 * time.Second
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = time.Second
	}
	return c
}

// Validate reports every setting that cannot work, naming the variable that sets it.
func (c Config) Validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.BatchSize < 1 || c.BatchSize > 100, "PHOTO_BATCH_SIZE %d: want 1..100", c.BatchSize)
	check(c.PredictionBudget < 0, "PREDICTION_BUDGET %d: must not be negative", c.PredictionBudget)
	check(c.Concurrency < 1, "WORKER_CONCURRENCY %d: want at least 1", c.Concurrency)
	check(c.PollInterval < time.Millisecond, "REPLICATE_POLL_INTERVAL %s: want at least 1ms", c.PollInterval)
	check(c.JobTimeout < time.Second, "JOB_TIMEOUT %s: want at least 1s", c.JobTimeout)
	check(c.PerMinute < -1, "PREDICTIONS_PER_MINUTE %d: want -1 (no limit) or more", c.PerMinute)
	check(c.RescueAfter <= c.JobTimeout, "RESCUE_STUCK_JOBS_AFTER %s must exceed the job timeout %s", c.RescueAfter, c.JobTimeout)
	check(c.FetchPollInterval < time.Millisecond, "RIVER_FETCH_POLL_INTERVAL %s: want at least 1ms", c.FetchPollInterval)
	check(c.SoftStop < 0, "SHUTDOWN_SOFT_TIMEOUT %s: must not be negative", c.SoftStop)
	return errors.Join(errs...)
}

// budget returns the subscriber's prediction budget for a target.
func (c Config) budget(target int) int {
	if c.PredictionBudget > 0 {
		return c.PredictionBudget
	}
	return target + 10
}
