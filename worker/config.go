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
	BatchSize         int           // PHOTO_BATCH_SIZE: predictions in flight per subscriber; default 5
	PredictionBudget  int           // PREDICTION_BUDGET: predictions a subscriber may cost in all; default target+10
	Concurrency       int           // WORKER_CONCURRENCY: jobs worked at once by one process; default 10
	Webhooks          bool          // creates ask for webhooks (REPLICATE_WEBHOOK_URL is set)
	CheckAfter        time.Duration // REPLICATE_WEBHOOK_CHECK_AFTER: with webhooks, the longest a prediction goes unheard of before one GET (sooner when late for the model's pace, see pace.go); default 30s
	PollInterval      time.Duration // REPLICATE_POLL_INTERVAL: without webhooks, between checks of a prediction still running after its synchronous wait; default 10s (a sleep lasts at least 6s)
	ReadsPerMinute    int           // REPLICATE_READS_PER_MINUTE: GET and list calls a minute, all workers together; default 1200, -1 for no limit
	PredictionTimeout time.Duration // PREDICTION_TIMEOUT: after this a prediction is cancelled and replaced; default 5m
	JobTimeout        time.Duration // JOB_TIMEOUT: one attempt of a job; default 45s
	RescueAfter       time.Duration // RESCUE_STUCK_JOBS_AFTER: a running job older than this is rescued; default JobTimeout+15s
	FetchPollInterval time.Duration // RIVER_FETCH_POLL_INTERVAL: River's fallback poll when no notification arrives; default 1s
	FetchCooldown     time.Duration // RIVER_FETCH_COOLDOWN: the least time between two fetches of jobs; default 10ms
	PerMinute         int           // PREDICTIONS_PER_MINUTE: prediction creations a minute, all workers together; default 600, -1 for no limit
	SoftStop          time.Duration // SHUTDOWN_SOFT_TIMEOUT: on shutdown, how long running jobs may finish before they are cancelled; default 30s
	OutageLimit       time.Duration // OUTAGE_LIMIT: how long a generation waits out an outage of the provider or the photo store before it fails; default 1h
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
		c.PollInterval = 10 * time.Second
	}
	if c.CheckAfter == 0 {
		c.CheckAfter = 30 * time.Second
	}
	if c.ReadsPerMinute == 0 {
		c.ReadsPerMinute = 1200
	}
	if c.FetchCooldown == 0 {
		c.FetchCooldown = 10 * time.Millisecond
	}
	if c.PredictionTimeout == 0 {
		c.PredictionTimeout = 5 * time.Minute
	}
	if c.JobTimeout == 0 {
		c.JobTimeout = 45 * time.Second
	}
	if c.PerMinute == 0 {
		c.PerMinute = 600
	}
	if c.SoftStop == 0 {
		c.SoftStop = 30 * time.Second
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = c.JobTimeout + 15*time.Second
	}
	if c.FetchPollInterval == 0 {
		c.FetchPollInterval = time.Second
	}
	if c.OutageLimit == 0 {
		// Replicate deletes a prediction's output about an hour after it ends: a
		// generation still waiting for the photo store then would lose what it paid for.
		c.OutageLimit = time.Hour
	}
	return c
}

// Validate reports every setting that cannot work, each error naming its field first
// (the command line names the variable instead).
func (c Config) Validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.BatchSize < 1 || c.BatchSize > 100, "BatchSize %d: want 1..100", c.BatchSize)
	check(c.PredictionBudget < 0, "PredictionBudget %d: must not be negative", c.PredictionBudget)
	check(c.Concurrency < 1, "Concurrency %d: want at least 1", c.Concurrency)
	check(c.PollInterval < time.Millisecond, "PollInterval %s: want at least 1ms", c.PollInterval)
	check(c.JobTimeout < time.Second, "JobTimeout %s: want at least 1s", c.JobTimeout)
	check(c.PerMinute < -1, "PerMinute %d: want -1 (no limit) or more", c.PerMinute)
	check(c.ReadsPerMinute < -1, "ReadsPerMinute %d: want -1 (no limit) or more", c.ReadsPerMinute)
	check(c.CheckAfter < time.Millisecond, "CheckAfter %s: want at least 1ms", c.CheckAfter)
	check(c.FetchCooldown < time.Millisecond, "FetchCooldown %s: want at least 1ms", c.FetchCooldown)
	check(c.RescueAfter <= c.JobTimeout, "RescueAfter %s must exceed JobTimeout %s", c.RescueAfter, c.JobTimeout)
	check(c.FetchPollInterval < time.Millisecond, "FetchPollInterval %s: want at least 1ms", c.FetchPollInterval)
	check(c.SoftStop < 0, "SoftStop %s: must not be negative", c.SoftStop)
	check(c.OutageLimit < time.Second, "OutageLimit %s: want at least 1s", c.OutageLimit)
	return errors.Join(errs...)
}

// attemptWindow is how long an attempt starts new work: a third of the job timeout, so
// that what it started (a synchronous create holds up to REPLICATE_SYNC_WAIT) ends well
// inside the timeout, and a healthy attempt is never rescued while it runs.
func (c Config) attemptWindow() time.Duration { return c.JobTimeout / 3 }

// budget returns the subscriber's prediction budget for a target.
func (c Config) budget(target int) int {
	if c.PredictionBudget > 0 {
		return c.PredictionBudget
	}
	return target + 10
}
