// Package worker works photogen's River jobs: the generation job (a window of
// predictions through a Provider, recorded in the ledger, kept in the photo bucket and
// appended with the capped statement, in short attempts woken by webhooks), and the job
// that cancels a stopped generation's predictions. NewClient builds the River client
// that runs them, with the usage counters' periodic cleanup; GenerateWorker.Wakes runs
// beside it.
//
// Glossary, for the words the code uses:
//   - attempt: one run of the generation job (worker/attempt.go), a few named steps in
//     turn; it ends done, asleep, or with an error River retries.
//   - ledger: the subscriber's rows in predictions, one per prediction (store.Ledger).
//   - intent: a ledger row written before its create call (status creating), with the
//     seed that finds the prediction again if the call's answer is lost.
//   - window: the predictions open at once (PHOTO_BATCH_SIZE); room: how many more may
//     start now (store.Ledger.Room).
//   - own: a task owns the seeds it is creating; an intent no task owns is an orphan,
//     left by a failed call or a dead attempt, and is reconciled.
//   - reconcile: settle an orphan: adopt the prediction with its seed, or abandon it.
//   - keep: download a finished prediction's image, check it, store it in our bucket.
//   - refill: the creates that replace the photos kept together, reserved in their
//     keep's transaction and started when the keep's task is back.
//   - news: a prediction's end recorded by a webhook that no attempt has seen yet
//     (subscribers.wake_pending).
//   - ring: the notification (store.WakeChannel) that tells a lingering attempt that
//     news came.
//   - linger: an attempt with predictions in flight waiting in place for a ring, briefly,
//     instead of going to sleep (worker/linger.go).
//   - asleep: the job snoozed between attempts (ErrAsleep), until woken or its next check.
//   - wake: make a sleeping job available now (generation.Wake states the handshake).
//   - check: one GET of a prediction not heard of for a while (a lost webhook).
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/trace"

	"photogen/generation"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
)

// maxInProcessWait is the longest an attempt waits in place for the provider's or the
// fleet's rate limit; longer waits snooze the job and free the worker slot.
const maxInProcessWait = 5 * time.Second

// GenerateWorker works generation.GenerateArgs in short attempts (see attempt.go): each
// does what can be done now (keep finished photos, append them with the capped
// statement, adopt lost creates, check predictions not heard of, top the window of
// predictions in flight back up) and ends: the job sleeps (snoozed) until a webhook
// wakes it, or until the next prediction is due for a check.
type GenerateWorker struct {
	river.WorkerDefaults[generation.GenerateArgs]
	store    *store.Store
	provider Provider
	keeper   *photos.Keeper
	cfg      Config
	logger   *slog.Logger
	obs      Observer
	tracer   trace.Tracer
	running  atomic.Int32 // attempts under way in this process
	lastTook atomic.Int64 // how long the last prediction this process kept took (a time.Duration)
	bell     bell         // rings lingering attempts (see Wakes)
	pace     pace         // the model's recent pace, for late-webhook checks
	attempts *attempts    // this process's attempts, for the hand-back of dropped outcomes
}

// NewGenerateWorker returns a worker that makes photos with p and keeps them with k;
// cfg is completed with its defaults, and its errors returned. Call Observe to record
// metrics, and Trace to record spans.
func NewGenerateWorker(s *store.Store, p Provider, k *photos.Keeper, cfg Config, logger *slog.Logger) (*GenerateWorker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &GenerateWorker{store: s, provider: p, keeper: k, cfg: cfg, logger: logger, obs: NopObserver{}, tracer: noTracer, attempts: newAttempts()}, nil
}

// Observe sends the worker's job runs, finished predictions and photos to obs.
// Call it before the worker starts.
func (w *GenerateWorker) Observe(obs Observer) {
	w.obs = obs
}

// Timeout is one attempt's limit; the client's RescueAfter is set above it.
func (w *GenerateWorker) Timeout(*river.Job[generation.GenerateArgs]) time.Duration {
	return w.cfg.JobTimeout
}

// NextRetry is when the job runs again after an attempt River counts as failed. An
// attempt that began longer ago than the job timeout and the rescue margin together has
// been rescued (its worker died or lost PostgreSQL for good): it runs at once, for the
// ledger makes any attempt resume exactly. Others wait River's backoff (the zero time).
func (w *GenerateWorker) NextRetry(job *river.Job[generation.GenerateArgs]) time.Time {
	if job.AttemptedAt != nil && time.Since(*job.AttemptedAt) > (w.cfg.JobTimeout+w.cfg.RescueAfter)/2 {
		return time.Now()
	}
	return time.Time{}
}

// Work makes the subscriber's missing photos. Its outcomes: nil when the target is
// reached or nothing is owed (completed, refunded); JobSnooze when a rate limit asks for
// a long wait, when an outage delays the generation (delay.go), or when PostgreSQL
// blinked; JobCancel after marking the generation failed (and cancelling what is in
// flight) when retrying cannot help; the error otherwise, so that River retries with
// backoff (and, on the last attempt, the generation is marked failed).
func (w *GenerateWorker) Work(ctx context.Context, job *river.Job[generation.GenerateArgs]) (err error) {
	start := time.Now()
	if int(w.running.Add(1)) >= w.cfg.Concurrency {
		w.bell.ringAll(false) // the lingering attempts stop lingering: a job may wait for a slot
	}
	defer w.running.Add(-1)
	if job.AttemptedAt != nil {
		w.attempts.start(job.ID)
		defer w.attempts.end(job.ID, *job.AttemptedAt)
	}
	defer func() { w.obs.ObserveJobRun(job.Kind, jobOutcome(err), time.Since(start)) }()
	return w.work(ctx, job)
}

func (w *GenerateWorker) work(ctx context.Context, job *river.Job[generation.GenerateArgs]) error {
	id := job.Args.SubscriberID
	log := w.logger.With("subscriber_id", id, "job_id", job.ID, "attempt", job.Attempt)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		log = log.With("trace_id", sc.TraceID().String())
	}
	tracing.Annotate(ctx, tracing.Subscriber(id)) // the attempt's span, River's
	sub, err := w.store.StartGeneration(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return river.JobCancel(err)
	case err != nil:
		return w.outcome(ctx, log, job, err)
	case sub.Status != generation.StatusGenerating:
		log.InfoContext(ctx, "nothing to generate", "status", sub.Status)
		return nil
	}
	log.InfoContext(ctx, "generation attempt started", "photos", len(sub.PhotoURLs), "target", sub.TargetPhotos)
	return w.outcome(ctx, log, job, w.attempt(ctx, log, sub))
}

// outcome is what River is told of an attempt that ended with err (see Work).
func (w *GenerateWorker) outcome(ctx context.Context, log *slog.Logger, job *river.Job[generation.GenerateArgs], err error) error {
	id := job.Args.SubscriberID
	var snooze *snoozeError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		// Shutdown or timeout: in-flight predictions stay in the ledger and the next
		// attempt waits on them instead of creating new ones.
		return err
	case errors.As(err, &snooze):
		log.WarnContext(ctx, "rate limited, snoozing", "wait", snooze.wait)
		return river.JobSnooze(snooze.wait)
	case errors.Is(err, errAttemptOver):
		return river.JobSnooze(0)
	case errors.Is(err, ErrAsleep):
		return err
	case outageOf(err) != "":
		return w.delayed(ctx, log, id, outageOf(err), err)
	case store.Unreachable(err), store.Contended(err):
		// PostgreSQL blinked (a reset, a restart, a failover) or a lock was not granted in
		// time: the ledger makes the next attempt resume exactly, so it comes at once and
		// spends no attempt, however many blips a bad minute brings. If the snooze cannot
		// be written either, the hand-back or the rescuer returns the job.
		log.WarnContext(ctx, "database unreachable or contended, trying again in a second", "err", err)
		return river.JobSnooze(time.Second)
	}
	var budget *budgetError
	switch {
	case provider.Permanent(err), errors.As(err, &budget):
		return w.fail(ctx, log, id, err.Error(), err)
	case job.Attempt >= job.MaxAttempts:
		return w.fail(ctx, log, id, fmt.Sprintf("gave up after %d attempts: %v", job.Attempt, err), err)
	}
	log.WarnContext(ctx, "generation attempt failed, will retry", "err", err)
	return err
}

// fail ends the generation as failed with reason (what the status shows), cancels its
// predictions in flight, and cancels the job; err is what ended it.
func (w *GenerateWorker) fail(ctx context.Context, log *slog.Logger, id uuid.UUID, reason string, err error) error {
	if _, ferr := w.store.FailGeneration(ctx, id, reason); ferr != nil {
		return errors.Join(err, ferr)
	}
	if cerr := w.cancelInFlight(ctx, id); cerr != nil {
		log.WarnContext(ctx, "cancel in-flight predictions", "err", cerr)
	}
	log.ErrorContext(ctx, "generation failed", "reason", reason)
	return river.JobCancel(err)
}

// budgetError ends a generation whose predictions have cost all it may.
type budgetError struct{ budget, failed int }

func (e *budgetError) Error() string {
	return fmt.Sprintf("prediction budget of %d exhausted: %d predictions failed", e.budget, e.failed)
}

// snoozeError asks Work to snooze the job for wait.
type snoozeError struct{ wait time.Duration }

func (e *snoozeError) Error() string { return fmt.Sprintf("rate limited for %s", e.wait) }

// takeReadSlots takes up to n provider reads (GET and list calls) from the fleet-wide
// budget. It returns how many it got and, when fewer than n, how long until the next.
func (w *GenerateWorker) takeReadSlots(ctx context.Context, n int) (int, time.Duration, error) {
	if w.cfg.ReadsPerMinute < 0 || n == 0 {
		return n, 0, nil
	}
	return w.store.TakeProviderReadSlots(ctx, n, w.cfg.ReadsPerMinute, time.Minute)
}

// pause waits d in place, or returns a snoozeError when d is too long to hold a worker.
func (w *GenerateWorker) pause(ctx context.Context, d time.Duration) error {
	if d > maxInProcessWait {
		return &snoozeError{wait: d}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
