// This file is one attempt of a generation job, as a small state machine: each turn does
// one named step and says what comes next, until the attempt ends (done, or asleep until
// a webhook or the next check has news). The linger policy is in linger.go.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"photogen/generation"
	"photogen/store"
)

// errAttemptOver asks Work to end the attempt while work remains: the job is made
// available again at once (a zero snooze), so that no attempt outgrows its timeout.
var errAttemptOver = errors.New("attempt window over")

// step is one named step of an attempt: it does its part and returns the step that
// follows, or nil when the attempt is done. A turn takes them in this order: look,
// appendStep, reconcileStep, checkStep, createStep, waitStep, then lingerStep or
// finishStep; a step that finds news, a task back or work left starts the next turn
// (look).
type step func(ctx context.Context, a *attemptState) (step, error)

// attemptState is what one attempt knows: what it was given, and what its last look at
// the ledger found.
type attemptState struct {
	log          *slog.Logger
	sub          *generation.Subscriber
	window       store.Window // how many predictions may be open, and cost in all
	stopCreating time.Time    // no create starts after this
	tasks        *tasks       // keeps and creates under way
	// took is how long the last prediction kept took, from its reservation to its end:
	// this subscriber's, or before it has one, the last this process kept.
	took    time.Duration
	ledger  store.Ledger       // the last look
	result  store.AppendResult // after the last append
	delayed atomic.Bool        // the generation waits out an outage until a call works (delay.go)
}

// creating reports whether the attempt may still start creates.
func (a *attemptState) creating() bool { return time.Now().Before(a.stopCreating) }

// idle reports whether nothing is open in the window and no task runs.
func (a *attemptState) idle() bool { return a.ledger.Open() == 0 && a.tasks.n == 0 }

// attempt works sub's generation until nothing more can be done now: the whole cycle is
// the steps below, each naming the next. It returns nil when the generation ended, ErrAsleep
// (with a snooze) when the job sleeps until news, or the error that ended it.
func (w *GenerateWorker) attempt(ctx context.Context, log *slog.Logger, sub *generation.Subscriber) error {
	a := &attemptState{
		log: log, sub: sub,
		window:       store.Window{Batch: w.cfg.BatchSize, Budget: w.cfg.budget(sub.TargetPhotos)},
		stopCreating: time.Now().Add(w.cfg.attemptWindow()),
		tasks:        newTasks(),
		took:         time.Duration(w.lastTook.Load()),
	}
	a.delayed.Store(sub.Delay != nil)
	defer a.tasks.wait() // never leave a keep or a create call behind
	for next := step(w.look); next != nil; {
		var err error
		if next, err = next(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// look reads the ledger and starts a task for each finished prediction not yet being
// kept: the task keeps its photo, then starts the prediction that replaces it.
func (w *GenerateWorker) look(ctx context.Context, a *attemptState) (step, error) {
	ledger, err := w.store.LedgerFor(ctx, a.sub.ID)
	if err != nil {
		return nil, err
	}
	a.ledger = ledger
	for _, f := range ledger.ToKeep {
		if a.tasks.keeping(f.ProviderID) {
			continue
		}
		if d := f.CompletedAt.Sub(f.CreatedAt); d > 0 {
			a.took = d
			w.lastTook.Store(int64(d))
		}
		a.tasks.startKeep(f.ProviderID, func(o owner) error {
			if err := w.keep(ctx, a.log, a.sub.ID, f); err != nil {
				return err
			}
			w.progressed(ctx, a)
			if !a.creating() {
				return nil
			}
			return w.refill(ctx, a, o)
		})
	}
	return w.appendStep, nil
}

// appendStep appends the kept photos; the attempt is done when the generation has left
// generating.
func (w *GenerateWorker) appendStep(ctx context.Context, a *attemptState) (step, error) {
	r, err := w.appendSucceeded(ctx, a.log, a.sub.ID)
	if err != nil {
		return nil, err
	}
	a.result = r
	if r.Status != generation.StatusGenerating {
		w.generationEnded(ctx, a.log, a.sub, r)
		return nil, nil
	}
	return w.reconcileStep, nil
}

// reconcileStep settles the orphaned intents; having settled one, it looks again.
func (w *GenerateWorker) reconcileStep(ctx context.Context, a *attemptState) (step, error) {
	settled, err := w.reconcileOrphans(ctx, a.sub, a.ledger.Intents, a.tasks)
	if settled {
		return w.look, err
	}
	return w.checkStep, err
}

// checkStep checks the predictions due; news of an end makes it look again.
func (w *GenerateWorker) checkStep(ctx context.Context, a *attemptState) (step, error) {
	heard, err := w.checkDue(ctx, a)
	if heard {
		return w.look, err
	}
	return w.createStep, err
}

// createStep starts creates for the room the window has, while the attempt may create.
// It fails the generation when the budget is spent and nothing is left open, and pauses
// in place when the fleet's limit granted nothing and nothing else can happen.
func (w *GenerateWorker) createStep(ctx context.Context, a *attemptState) (step, error) {
	want := a.ledger.Room(a.window)
	if want == 0 && a.idle() {
		return nil, &budgetError{budget: a.window.Budget, failed: a.ledger.Failed}
	}
	if want == 0 || !a.creating() {
		return w.waitStep, nil
	}
	started, wait, err := w.startCreates(ctx, a, want)
	if err != nil || started > 0 || !a.idle() {
		return w.waitStep, err
	}
	return w.look, w.pause(ctx, wait)
}

// waitStep waits for the first task back when one runs; otherwise it lingers (webhooks
// on, predictions in flight, still creating) or finishes.
func (w *GenerateWorker) waitStep(ctx context.Context, a *attemptState) (step, error) {
	switch {
	case a.tasks.n > 0:
		return w.look, a.tasks.next(ctx)
	case w.cfg.Webhooks && a.ledger.Open() > 0 && a.creating():
		return w.lingerStep, nil
	}
	return w.finishStep, nil
}

// lingerStep waits for news until lingerUntil, or until the next check is due when
// that comes sooner than the shortest sleep (a lost webhook's check then costs no sleep);
// news, or a check now due, makes it look again.
func (w *GenerateWorker) lingerStep(ctx context.Context, a *attemptState) (step, error) {
	until, checkAt := lingerUntil(time.Now(), a.ledger, a.took), w.nextCheckAt(ctx, a.ledger)
	if checkAt.After(until) && time.Until(checkAt) < minSleep {
		until = checkAt
	}
	news, err := w.linger(ctx, a.sub.ID, until)
	if news || !time.Now().Before(checkAt) {
		return w.look, err
	}
	return w.finishStep, err
}

// finishStep ends the attempt asleep when finish finds nothing to do, and otherwise
// takes one more turn.
func (w *GenerateWorker) finishStep(ctx context.Context, a *attemptState) (step, error) {
	sleep, err := w.finish(ctx, a)
	if err != nil {
		return nil, err
	}
	if sleep > 0 {
		a.log.DebugContext(ctx, "asleep until the provider has news", "at_most", sleep)
		return nil, asleep(sleep)
	}
	return w.look, nil
}
