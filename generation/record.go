// This file is what happens when the provider reports on a prediction by itself (a
// Replicate webhook): the outcome goes to the ledger, and the generation is woken (see
// wake.go) so that the worker keeps the photo and starts the next prediction at once.

package generation

import (
	"context"

	"github.com/google/uuid"

	"photogen/tracing"
)

// RecordResult says what a provider's report did.
type RecordResult string

// The results of Record.
const (
	Recorded  RecordResult = "recorded"  // the ledger changed
	Duplicate RecordResult = "duplicate" // the ledger knew it already: a repeat, or a late or reordered report
	Unknown   RecordResult = "unknown"   // no prediction in the ledger has this id
)

// Record writes what the provider reported of p to the ledger and, when p has ended,
// wakes the subscriber's generation. A report the ledger already reflects, or one older
// than what it holds, changes nothing; so do repeats. The download and storage of the
// image are left to the worker.
func Record(ctx context.Context, db DB, jobs Inserter, p Prediction) (RecordResult, error) {
	tracing.Annotate(ctx, tracing.Prediction(p.ID))
	id, res, err := db.RecordOutcome(ctx, p)
	if id != uuid.Nil {
		tracing.Annotate(ctx, tracing.Subscriber(id))
	}
	if err != nil || res != Recorded {
		return res, err
	}
	if status, outputURL, _ := p.Ledger(); status != PredictionStarting && status != PredictionProcessing {
		return res, Wake(ctx, db, jobs, News{Subscriber: id, Prediction: p.ID, Status: status, OutputURL: outputURL})
	}
	return res, nil
}
