// This file is an attempt's own copy of its subscriber's ledger: read once when the
// attempt starts (and again when it must look), then kept current by what the attempt
// and its tasks do and by the news rung to it, so that a photo costs no read of the
// ledger. The database stays the judge: every reservation, keep and append checks the
// ledger under the subscriber's row lock, and the attempt reads it again before it
// sleeps (finish) or fails the generation for its budget (createStep).

package worker

import (
	"slices"
	"time"

	"photogen/generation"
	"photogen/store"
)

// ledgerChange is one change the attempt or a task made to the ledger, or heard of,
// applied to the attempt's copy. A task's changes are applied when the task is back, in
// the order it made them; every change is idempotent against a copy read since.
type ledgerChange func(a *attemptState)

// apply applies c to the attempt's copy of the ledger, which is then no longer fresh
// from the database.
func (a *attemptState) apply(c ledgerChange) {
	c(a)
	a.fresh = false
}

// known reports whether the copy holds p in flight or to keep, or a task of the attempt
// keeps (or kept) it.
func (a *attemptState) known(p string) bool {
	return slices.ContainsFunc(a.ledger.InFlight, func(f store.InFlight) bool { return f.ProviderID == p }) ||
		slices.ContainsFunc(a.ledger.ToKeep, func(f store.Finished) bool { return f.ProviderID == p }) ||
		a.tasks.keeping(p)
}

// reserved: intents written, their creates about to leave.
func reserved(intents []store.Intent) ledgerChange {
	return func(a *attemptState) { a.ledger.Intents = append(a.ledger.Intents, intents...) }
}

// abandoned: the intent id never became a prediction.
func abandoned(id int64) ledgerChange {
	return func(a *attemptState) {
		a.ledger.Intents = slices.DeleteFunc(a.ledger.Intents, func(in store.Intent) bool { return in.ID == id })
	}
}

// started: the intent in became the prediction p (created, or adopted from the
// provider): it is in flight, or already ended when the provider said so at once.
func started(in store.Intent, p generation.Prediction) ledgerChange {
	return func(a *attemptState) {
		abandoned(in.ID)(a)
		if a.known(p.ID) {
			return
		}
		a.ledger.Created++
		a.ledger.InFlight = append(a.ledger.InFlight, store.InFlight{ProviderID: p.ID, CreatedAt: in.CreatedAt, CheckedAt: time.Now()})
		if news, ok := a.early[p.ID]; ok {
			delete(a.early, p.ID)
			ended(news)(a)
		} else if p.Status.Terminal() {
			status, outputURL, _ := p.Ledger()
			ended(generation.News{Prediction: p.ID, Status: status, OutputURL: outputURL})(a)
		}
	}
}

// ended: news of a prediction's end. A finished one is to keep; a failed one frees its
// place in the window. News of a prediction the copy does not hold yet (its create's
// answer is still on its way back) waits for it.
func ended(news generation.News) ledgerChange {
	return func(a *attemptState) {
		i := slices.IndexFunc(a.ledger.InFlight, func(f store.InFlight) bool { return f.ProviderID == news.Prediction })
		if i < 0 {
			if !a.known(news.Prediction) && news.Status.Terminal() {
				a.early[news.Prediction] = news
			}
			return
		}
		f := a.ledger.InFlight[i]
		a.ledger.InFlight = slices.Delete(a.ledger.InFlight, i, i+1)
		switch news.Status {
		case generation.PredictionFinished:
			a.ledger.ToKeep = append(a.ledger.ToKeep, store.Finished{ProviderID: f.ProviderID, OutputURL: news.OutputURL, CreatedAt: f.CreatedAt, CompletedAt: time.Now()})
		default:
			a.ledger.Failed++
		}
	}
}

// kept: the finished prediction p is kept, and appended (r, from the same transaction);
// discarded when its output could not be used (it counts as failed).
func kept(p string, r *store.AppendResult, discarded bool) ledgerChange {
	return func(a *attemptState) {
		n := len(a.ledger.ToKeep)
		a.ledger.ToKeep = slices.DeleteFunc(a.ledger.ToKeep, func(f store.Finished) bool { return f.ProviderID == p })
		if discarded && len(a.ledger.ToKeep) < n {
			a.ledger.Failed++
		}
		if r != nil {
			a.ledger.Photos = max(a.ledger.Photos, r.Photos)
			if r.Status != generation.StatusGenerating {
				a.ended = r
			}
		}
	}
}

// checked: the prediction p in flight was just checked (or its check failed): it is due
// again after the check interval.
func checked(p string) ledgerChange {
	return func(a *attemptState) {
		if i := slices.IndexFunc(a.ledger.InFlight, func(f store.InFlight) bool { return f.ProviderID == p }); i >= 0 {
			a.ledger.InFlight[i].CheckedAt = time.Now()
		}
	}
}
