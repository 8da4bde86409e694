// This file checks the predictions nothing was heard of for a while (a lost webhook, or
// a model slower than the synchronous wait) with one GET each, paced fleet-wide, and
// cancels those that outlive PredictionTimeout.

package worker

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"photogen/generation"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
)

// checkDue checks every in-flight prediction of the ledger that is due: not heard of for
// checkAfter (late for the model's pace with webhooks, PollInterval without). Reads are
// taken from the fleet's budget (ReadsPerMinute); those that do not fit wait for a later
// turn. A check that fails is tried again at the next; when every check failed for an
// outage of the provider, that error is returned (the generation is delayed). It reports
// whether a check brought news of a prediction's end.
func (w *GenerateWorker) checkDue(ctx context.Context, a *attemptState) (heard bool, err error) {
	now, after := time.Now(), w.checkAfter(ctx)
	var due []store.InFlight
	for _, p := range a.ledger.InFlight {
		if now.Sub(p.CheckedAt) >= after {
			due = append(due, p)
		}
	}
	if len(due) == 0 {
		return false, nil
	}
	granted, _, err := w.takeReadSlots(ctx, len(due))
	if err != nil {
		return false, err
	}
	var outage error // the first check's that failed for an outage
	worked := false
	for _, p := range due[:granted] {
		ended, failed, err := w.checkOne(ctx, a, p, now)
		switch {
		case err != nil:
			return heard, err
		case failed == nil:
			worked, heard = true, heard || ended
		case provider.Unavailable(failed):
			outage = cmp.Or(outage, failed)
		}
	}
	if outage != nil && !worked {
		return false, outage
	}
	return heard, nil
}

// checkOne checks one prediction due (or cancels it, when it has outlived
// PredictionTimeout) and reports whether it has ended. A failure of the provider's that
// may pass is logged and returned as failed (the prediction is checked again when it is
// next due); err is what ends the turn: a refusal that needs a person, or the database's.
func (w *GenerateWorker) checkOne(ctx context.Context, a *attemptState, p store.InFlight, now time.Time) (ended bool, failed, err error) {
	if now.Sub(p.CreatedAt) > w.cfg.PredictionTimeout {
		return true, nil, w.cancelOne(ctx, p.ProviderID, fmt.Sprintf("not finished after %s; cancelled", w.cfg.PredictionTimeout))
	}
	got, err := w.check(ctx, p.ProviderID)
	a.apply(checked(p.ProviderID))
	switch {
	case provider.Permanent(err):
		return false, nil, err
	case err != nil:
		a.log.WarnContext(ctx, "check of a prediction failed", "prediction_id", p.ProviderID, "err", err)
		return false, err, nil
	}
	w.progressed(ctx, a)
	if ended, err = w.record(ctx, got); err != nil {
		return false, nil, err
	}
	if w.cfg.Webhooks {
		w.obs.LateWebhookChecked(ended)
	}
	return ended, nil, nil
}

// check reads one prediction from the provider, in a span of its own.
func (w *GenerateWorker) check(ctx context.Context, id string) (p generation.Prediction, err error) {
	ctx, span := w.span(ctx, "prediction.check", tracing.Prediction(id))
	defer func() {
		span.SetAttributes(tracing.StatusKey.String(string(p.Status)))
		tracing.End(span, err)
	}()
	return w.provider.Get(ctx, id)
}

// record writes a provider's answer about a prediction to the ledger, and reports
// whether it told of the prediction's end.
func (w *GenerateWorker) record(ctx context.Context, p generation.Prediction) (ended bool, err error) {
	_, res, err := w.store.RecordOutcome(ctx, p)
	if err != nil || res != generation.Recorded {
		return false, err
	}
	switch status, _, _ := p.Ledger(); status {
	case generation.PredictionStarting, generation.PredictionProcessing:
		return false, nil
	case generation.PredictionFinished:
	default:
		w.obs.PredictionFinished(string(status))
	}
	return true, nil
}

// cancelOne cancels a prediction at the provider and records it canceled.
func (w *GenerateWorker) cancelOne(ctx context.Context, id, reason string) (err error) {
	ctx, span := w.span(ctx, "prediction.cancel", tracing.Prediction(id))
	defer func() { tracing.End(span, err) }()
	if err = w.provider.Cancel(ctx, id); err != nil {
		return err
	}
	w.obs.PredictionFinished(string(generation.PredictionCanceled))
	return w.store.FinishPrediction(ctx, id, generation.PredictionCanceled, nil, nil, &reason)
}
