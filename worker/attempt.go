// This file is one attempt of a generation job, as a small state machine: each turn does
// one named step and says what comes next, until the attempt ends (done, or asleep until
// a webhook or the next check has news). The attempt keeps its own copy of the ledger
// (ledger.go): it reads the ledger when it starts and when it must look again, and
// otherwise acts on what its tasks did and on the news rung to it. The linger policy is in
// linger.go.

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
// follows, or nil when the attempt is done. A turn takes them in this order: look (read
// the ledger) and appendStep, or act (on the copy); then reconcileStep, checkStep,
// createStep and waitStep, which waits for a task back or news (then act), for a reason
// to look, or for the linger's end (then finishStep).
type step func(ctx context.Context, a *attemptState) (step, error)

// attemptState is what one attempt knows: what it was given, and its copy of the ledger.
type attemptState struct {
	log          *slog.Logger
	sub          *generation.Subscriber
	window       store.Window // how many predictions may be open, and cost in all
	stopCreating time.Time    // no create starts after this
	tasks        *tasks       // keeps and creates under way
	rings        *rings       // the subscriber's news; nil when the process does not listen
	// took is how long the last prediction kept took, from its reservation to its end:
	// this subscriber's, or before it has one, the last this process kept.
	took    time.Duration
	ledger  store.Ledger               // the copy: the last look, and the changes since
	fresh   bool                       // ledger is the last look, unchanged since
	early   map[string]generation.News // ends heard before their creates' answers were applied
	ended   *store.AppendResult        // a keep's append ended the generation
	delayed atomic.Bool                // the generation waits out an outage until a call works (delay.go)
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
		early:        map[string]generation.News{},
	}
	a.delayed.Store(sub.Delay != nil)
	// Subscribed before the first look: news after it is rung, news before it is read.
	rings, unsubscribe, ok := w.bell.subscribe(sub.ID)
	defer unsubscribe()
	if ok {
		a.rings = rings
	}
	defer a.tasks.wait() // never leave a keep or a create call behind
	for next := step(w.look); next != nil; {
		var err error
		if next, err = next(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// look reads the ledger, then appends the kept photos (appendStep).
func (w *GenerateWorker) look(ctx context.Context, a *attemptState) (step, error) {
	ledger, err := w.store.LedgerFor(ctx, a.sub.ID)
	if err != nil {
		return nil, err
	}
	a.ledger, a.fresh = ledger, true
	return w.appendStep, nil
}

// act starts one task for the finished predictions not yet being kept (keepBatch): it
// keeps their photos together, and the attempt starts the predictions that replace them
// when it is back. The attempt is done when a keep's append ended the generation.
func (w *GenerateWorker) act(ctx context.Context, a *attemptState) (step, error) {
	if a.ended != nil {
		w.generationEnded(ctx, a.log, a.sub, *a.ended)
		return nil, nil
	}
	var batch []store.Finished
	var ids []string
	for _, f := range a.ledger.ToKeep {
		if a.tasks.keeping(f.ProviderID) {
			continue
		}
		if d := f.CompletedAt.Sub(f.CreatedAt); d > 0 {
			a.took = d
			w.lastTook.Store(int64(d))
		}
		batch, ids = append(batch, f), append(ids, f.ProviderID)
	}
	if len(batch) > 0 {
		a.tasks.startKeep(ids, func(t *taskOwner) error { return w.keepBatch(ctx, a, batch, t) })
	}
	return w.reconcileStep, nil
}

// appendStep appends the photos kept and not yet appended (a dead attempt's); the attempt
// is done when the generation has left generating.
func (w *GenerateWorker) appendStep(ctx context.Context, a *attemptState) (step, error) {
	r, err := w.appendSucceeded(ctx, a.log, a.sub.ID)
	if err != nil {
		return nil, err
	}
	a.ledger.Photos = r.Photos
	if r.Status != generation.StatusGenerating {
		w.generationEnded(ctx, a.log, a.sub, r)
		return nil, nil
	}
	return w.act, nil
}

// reconcileStep settles the orphaned intents; having settled one, it looks again.
func (w *GenerateWorker) reconcileStep(ctx context.Context, a *attemptState) (step, error) {
	settled, err := w.reconcileOrphans(ctx, a)
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
// It fails the generation when the budget is spent and nothing is left open (as a fresh
// look at the ledger says), and pauses in place when the fleet's limit granted nothing
// and nothing else can happen.
func (w *GenerateWorker) createStep(ctx context.Context, a *attemptState) (step, error) {
	want := a.ledger.Room(a.window)
	if want == 0 && a.idle() {
		if !a.fresh {
			return w.look, nil
		}
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

// waitStep waits for what comes first: a task back or news rung (then act), a ring that
// asks for a look, or, when no task runs, the end of the linger (lingerStep). With no task
// and no reason to linger, the attempt finishes.
func (w *GenerateWorker) waitStep(ctx context.Context, a *attemptState) (step, error) {
	var until <-chan time.Time
	if a.tasks.n == 0 {
		if !w.mayLinger(a) {
			return w.finishStep, nil
		}
		deadline := time.NewTimer(time.Until(w.lingerEnd(ctx, a)))
		defer deadline.Stop()
		until = deadline.C
	}
	var rang <-chan struct{}
	if a.rings != nil {
		rang = a.rings.c
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case d := <-a.tasks.done:
		err := a.tasks.back(a, d)
		// A kept batch's replacements are created even when the task failed: their
		// intents are written, and the attempt waits for its tasks before it ends.
		for _, in := range d.creates {
			a.tasks.startCreate(in.Seed, func(o owner) error { return w.create(ctx, a, in, o) })
		}
		return w.act, err
	case <-rang:
		news, look := a.rings.take()
		if look {
			return w.look, nil
		}
		for _, n := range news {
			a.apply(ended(n))
		}
		return w.act, nil
	case <-until:
		return w.lingerStep, nil
	}
}

// lingerStep follows a linger that ended with no news: a check now due is made (act);
// otherwise the attempt finishes.
func (w *GenerateWorker) lingerStep(ctx context.Context, a *attemptState) (step, error) {
	if !time.Now().Before(w.nextCheckAt(ctx, a.ledger)) {
		return w.act, nil
	}
	return w.finishStep, nil
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
	if a.fresh && a.ledger.Unappended == 0 {
		return w.act, nil // finish's own look, read under the lock
	}
	return w.look, nil
}
