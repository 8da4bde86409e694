// This file is what happens when the provider reports on a prediction by itself (a
// Replicate webhook): the outcome goes to the ledger, and the generation is woken so
// that the worker keeps the photo and starts the next prediction at once.

package generation

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

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
	if status, _, _ := p.Ledger(); status != PredictionStarting && status != PredictionProcessing {
		return res, Wake(ctx, db, jobs, id)
	}
	return res, nil
}

// Wake makes sure a generating subscriber's job runs soon. Between attempts the job
// sleeps (snoozed, so scheduled) until its next check: Wake makes it available at once
// and tells the workers, as an insert would. A job waiting already is left alone. For
// a running job, Wake leaves news (wake_pending): the attempt, which ends only under the
// subscriber's row lock after clearing it, either sees the ledger change, or the worker
// finds the news once River has put the job to sleep and wakes it then (WakePending).
// Waking a job River has not yet put to sleep would let its stale update land on the
// next attempt, so no job is woken before.
func Wake(ctx context.Context, db DB, jobs Inserter, id uuid.UUID) error {
	status, err := db.RequestWake(ctx, id)
	if err != nil || status != StatusGenerating {
		return err
	}
	// A duplicate insert locks the existing job's row until the transaction ends: River
	// cannot put a running job to sleep meanwhile, so the state read here holds.
	res, err := jobs.InsertTx(ctx, db.Tx(), GenerateArgs{SubscriberID: id}, nil)
	if err != nil {
		return fmt.Errorf("wake generation of %s: %w", id, err)
	}
	tracing.LinkJob(ctx, res.Job.Metadata) // from the webhook's trace to the generation's
	return retryAsleep(ctx, db, jobs, res.Job)
}

// WakePending wakes the sleeping job of a subscriber whose generation got news while
// the job ran: the worker calls it when River reports the job asleep (snoozed).
func WakePending(ctx context.Context, db DB, jobs Inserter, job *rivertype.JobRow) error {
	var args GenerateArgs
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
		return fmt.Errorf("job %d: %w", job.ID, err)
	}
	pending, err := db.TakeWake(ctx, args.SubscriberID)
	if err != nil || !pending {
		return err
	}
	return retryAsleep(ctx, db, jobs, job)
}

// retryAsleep makes a sleeping (or backing-off) job available now and notifies the
// workers; a job in any other state is left alone.
func retryAsleep(ctx context.Context, db DB, jobs Inserter, job *rivertype.JobRow) error {
	switch job.State {
	case rivertype.JobStateScheduled, rivertype.JobStateRetryable:
	default:
		return nil
	}
	if _, err := jobs.JobRetryTx(ctx, db.Tx(), job.ID); err != nil {
		return fmt.Errorf("wake job %d: %w", job.ID, err)
	}
	return notifyInsert(ctx, db, jobs, job.Queue)
}

// insertTopic is the channel on which River's clients announce new jobs to the workers
// (its notifier's insert topic), so that they fetch at once instead of at their next poll.
const insertTopic = "river_insert"

// notifyInsert tells the workers that queue has a job available, as River does after
// an insert, once the transaction commits.
func notifyInsert(ctx context.Context, db DB, jobs Inserter, queue string) error {
	return jobs.Driver().UnwrapExecutor(db.Tx()).NotifyMany(ctx, &riverdriver.NotifyManyParams{
		Payload: []string{fmt.Sprintf(`{"queue": %q}`, queue)},
		Topic:   insertTopic,
	})
}
