// This file creates one prediction and records it: an intent first, then the create
// call under the subscriber's creation lock, then the answer, synchronous or not.

package worker

import (
	"context"
	"errors"
	"slices"
	"time"

	"photogen/generation"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
)

// errStopped says the generation was stopped (refunded or cancelled) before a creation.
var errStopped = errors.New("generation stopped")

// create creates one prediction and records what the provider answered: in flight (a
// webhook or a later check will tell the rest), or already final when the provider held
// the answer (Prefer: wait). Throttling with a short Retry-After and transient faults
// are retried in place (a refused create cost nothing); a long Retry-After becomes a
// snooze of the whole job. A generation stopped meanwhile is not an error.
func (w *GenerateWorker) create(ctx context.Context, a *attemptState, in store.Intent, o owner) error {
	for try := 0; ; try++ {
		p, err := w.createRecorded(ctx, a.sub, in, o)
		if err == nil {
			w.progressed(ctx, a)
			if p.Status.Terminal() {
				_, err = w.record(ctx, p)
			}
			o.note(started(in, p))
			return err
		}
		if errors.Is(err, errStopped) {
			return nil
		}
		wait, limited := provider.RateLimited(err)
		switch {
		case limited && wait > maxInProcessWait:
			return &snoozeError{wait: wait}
		case limited && try < 8:
		case !limited && !provider.Permanent(err) && ctx.Err() == nil && try < 4:
			wait = time.Duration(200<<try) * time.Millisecond
		default:
			return err
		}
		a.log.DebugContext(ctx, "create refused, trying again", "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		// The refused create's intent is settled (abandoned, or left to the next
		// attempt to reconcile): the retry reserves its own, if the window still has
		// room, without a slot of the fleet's limit (the first intent took it).
		intents, _, err := w.reserve(ctx, a, 1, store.NoCreationLimit, o)
		if err != nil || len(intents) == 0 {
			return err
		}
		in = intents[0]
	}
}

// createRecorded creates the prediction of the intent in (reserved and committed before,
// with its random seed) and records it in the ledger. The create call runs under the subscriber's
// creation lock (a refund waits for it, and once a refund has committed no creation
// starts: errStopped). A refused create abandons the intent; an answer that may have
// been lost (network, 5xx, the database failing) is reconciled at once through Find, so
// a prediction that exists is adopted rather than paid for again. An intent settled
// without a prediction is noted to o (the prediction is noted by create).
func (w *GenerateWorker) createRecorded(ctx context.Context, sub *generation.Subscriber, in store.Intent, o owner) (p generation.Prediction, err error) {
	ctx, span := w.span(ctx, "prediction.create", tracing.Subscriber(sub.ID))
	defer func() {
		if p.ID != "" {
			span.SetAttributes(tracing.Prediction(p.ID), tracing.StatusKey.String(string(p.Status)))
		}
		failed := err
		if errors.Is(err, errStopped) {
			failed = nil // not a failed create: none was made
		}
		tracing.End(span, failed)
	}()
	intent, seed, began := in.ID, in.Seed, in.CreatedAt
	err = w.store.WithTx(ctx, func(tx *store.Store) error {
		status, err := tx.LockForCreation(ctx, sub.ID)
		if err != nil {
			return err
		}
		if status != generation.StatusGenerating {
			return errStopped
		}
		if p, err = w.provider.Create(ctx, sub.Prompt, seed); err != nil {
			return err
		}
		return tx.ResolveIntent(ctx, intent, p.ID, generation.PredictionStarting)
	})
	var pe *provider.Error
	switch {
	case err == nil:
		return p, nil
	case errors.Is(err, errStopped), errors.As(err, &pe) && pe.Status < 500:
		// Nothing was created: a refusal, or the generation stopped before the call.
		if aerr := w.store.AbandonIntent(ctx, intent, err.Error()); aerr != nil {
			return generation.Prediction{}, errors.Join(err, aerr)
		}
		o.note(abandoned(intent))
		return generation.Prediction{}, err
	}
	found, rerr := w.adopt(ctx, sub, store.Intent{ID: intent, Seed: seed, CreatedAt: began}, o)
	if rerr != nil {
		return generation.Prediction{}, errors.Join(err, rerr)
	}
	if found != nil {
		return *found, nil
	}
	return generation.Prediction{}, err
}

// reconcileOrphans settles the intents no create call of this attempt owns (a dead
// attempt's, or a failed call's whose answer may have been lost). It reports whether it
// settled any.
func (w *GenerateWorker) reconcileOrphans(ctx context.Context, a *attemptState) (bool, error) {
	settled := false
	for _, in := range slices.Clone(a.ledger.Intents) {
		// Not owned means no task is creating it now: a task that owned it has ended and
		// committed what it did. The ledger read may predate that, so look again.
		if a.tasks.owns(in.Seed) {
			continue
		}
		open, err := w.store.IntentOpen(ctx, in.ID)
		if err == nil && open {
			err = w.reconcileRetrying(ctx, a.sub, in, attemptOwner{a})
			settled = settled || err == nil
		}
		if err != nil {
			return settled, err
		}
	}
	return settled, nil
}

// reconcileRetrying reconciles one orphan, retrying a passing fault of the provider's
// list in place (4 tries, 200 ms doubling); a permanent fault or a snooze is returned.
func (w *GenerateWorker) reconcileRetrying(ctx context.Context, sub *generation.Subscriber, in store.Intent, o owner) error {
	for try := 0; ; try++ {
		_, err := w.reconcile(ctx, sub, in, o)
		var snooze *snoozeError
		if err == nil || provider.Permanent(err) || errors.As(err, &snooze) || ctx.Err() != nil || try == 3 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(200<<try) * time.Millisecond):
		}
	}
}

// reconcile settles an intent whose create answer never reached the ledger, and notes
// how to o: the prediction the provider has with its seed is adopted, and when there is
// none the intent is abandoned. It returns the adopted prediction, or nil.
func (w *GenerateWorker) reconcile(ctx context.Context, sub *generation.Subscriber, in store.Intent, o owner) (*generation.Prediction, error) {
	p, err := w.adopt(ctx, sub, in, o)
	if p != nil {
		o.note(started(in, *p))
	}
	return p, err
}

// adopt is reconcile but for the note of the adopted prediction, left to the caller.
func (w *GenerateWorker) adopt(ctx context.Context, sub *generation.Subscriber, in store.Intent, o owner) (*generation.Prediction, error) {
	if granted, wait, err := w.takeReadSlots(ctx, 1); err != nil || granted == 0 {
		if err == nil {
			err = &snoozeError{wait: wait}
		}
		return nil, err
	}
	// A minute of margin for the clocks of the database and the provider.
	p, found, err := w.provider.Find(ctx, in.Seed, sub.Prompt, in.CreatedAt.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	if !found {
		if err := w.store.AbandonIntent(ctx, in.ID, "not created at the provider"); err != nil {
			return nil, err
		}
		o.note(abandoned(in.ID))
		return nil, nil
	}
	w.logger.InfoContext(ctx, "adopted a prediction whose create answer was lost",
		"subscriber_id", sub.ID, "prediction_id", p.ID)
	if err := w.store.ResolveIntent(ctx, in.ID, p.ID, generation.PredictionStarting); err != nil {
		return nil, err
	}
	if p.Status.Terminal() {
		if _, err := w.record(ctx, p); err != nil {
			return nil, err
		}
	}
	return &p, nil
}
