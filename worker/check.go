// This file checks the predictions nothing was heard of for a while (a lost webhook, or
// a model slower than the synchronous wait) with one GET each, paced fleet-wide, and
// cancels those that outlive PredictionTimeout.

package worker

import (
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
		if now.Sub(p.CreatedAt) > w.cfg.PredictionTimeout {
			if err := w.cancelOne(ctx, p.ProviderID, fmt.Sprintf("not finished after %s; cancelled", w.cfg.PredictionTimeout)); err != nil {
				return heard, err
			}
			heard = true
			continue
		}
		got, err := w.check(ctx, p.ProviderID)
		if provider.Permanent(err) {
			return heard, err
		}
		if err != nil {
			a.log.WarnContext(ctx, "check of a prediction failed", "prediction_id", p.ProviderID, "err", err)
			if provider.Unavailable(err) && outage == nil {
				outage = err
			}
			continue
		}
		w.progressed(ctx, a)
		worked = true
		ended, err := w.record(ctx, got)
		if err != nil {
			return heard, err
		}
		if w.cfg.Webhooks {
			w.obs.LateWebhookChecked(ended)
		}
		heard = heard || ended
	}
	if outage != nil && !worked {
		return false, outage
	}
	return heard, nil
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
