// This file is the one home of the wake-up handshake between a webhook and the
// generation job: its protocol and its races are stated on Wake; the worker's side of
// it (the LISTEN connection, the linger, the look before sleeping) follows what is
// written here.

package generation

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"photogen/tracing"
)

// Wake makes sure a generating subscriber's job acts soon on news of its predictions.
//
// The handshake. A generation job works in short attempts and sleeps (snoozed, so
// River's state is scheduled) in between. News is a prediction's end recorded in the
// ledger; the subscriber's wake_pending column says some came that no attempt has seen.
//
//   - Wake (the webhook's transaction, after the outcome is recorded): RequestWake sets
//     wake_pending under the subscriber's row lock and rings the wake channel
//     (store.WakeChannel), both delivered at commit. A sleeping job is made available
//     at once and announced to the workers (retryAsleep). A running job is left alone.
//   - A lingering attempt (worker/linger.go) is rung by its process's one LISTEN
//     connection and takes the news (TakeWake): it looks at the ledger again.
//   - An attempt ends only in finish (worker/sleep.go): under the same row lock it takes
//     the news and reads the ledger once more. News committed before that lock is in
//     the ledger it reads; news committed after stays in wake_pending.
//   - When River reports the job asleep (snoozed), the worker calls WakePending: news
//     left while the job ran is taken and the job woken.
//
// The races, and why each is safe:
//   - A webhook while the attempt runs: the row lock orders it before or after finish's
//     look; before, finish sees the ledger change and takes one more turn; after, the
//     news waits in wake_pending for WakePending.
//   - A webhook after the attempt returned but before River stored its snooze: the job
//     is still running in River's table, so Wake leaves it alone (waking it now would
//     let the stale snooze land on the next attempt); WakePending wakes it once River
//     reports the snooze. The duplicate insert in Wake locks the job's row until the
//     webhook's transaction ends, so River cannot snooze it between the read of its state
//     and the retry.
//   - A ring that comes before the attempt starts waiting, or one that is lost while the
//     LISTEN connection is down: the attempt takes the news after it subscribes, the
//     connection rings every waiter when it comes back, and at worst the linger ends at
//     its deadline and finish reads the ledger.
//   - A missed "snoozed" report (a worker that dies): the job sleeps until its next
//     prediction is due for a check, no longer.
func Wake(ctx context.Context, db DB, jobs Inserter, id uuid.UUID) error {
	status, err := db.RequestWake(ctx, id)
	if err != nil || status != StatusGenerating {
		return err
	}
	res, err := jobs.InsertTx(ctx, db.Tx(), GenerateArgs{SubscriberID: id}, nil)
	if err != nil {
		return fmt.Errorf("wake generation of %s: %w", id, err)
	}
	tracing.LinkJob(ctx, res.Job.Metadata) // from the webhook's trace to the generation's
	return retryAsleep(ctx, db, jobs, res.Job)
}

// WakePending takes the news a subscriber's generation got while its job ran, and wakes
// the job, now asleep: the worker calls it when River reports the job snoozed.
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

// retryAsleep makes a sleeping (or backing-off) job available now and announces it to
// the workers; a job in any other state is left alone.
func retryAsleep(ctx context.Context, db DB, jobs Inserter, job *rivertype.JobRow) error {
	switch job.State {
	case rivertype.JobStateScheduled, rivertype.JobStateRetryable:
	default:
		return nil
	}
	if _, err := jobs.JobRetryTx(ctx, db.Tx(), job.ID); err != nil {
		return fmt.Errorf("wake job %d: %w", job.ID, err)
	}
	return notifyInsert(ctx, db.Tx(), jobs, job.Queue)
}

// insertTopic and insertPayload are River's announcement of a job available in a queue
// (its notifier's insert topic), borrowed from River's internals so that the workers
// fetch at once instead of at their next poll. JobRetryTx does not announce; the test
// TestNotifyInsertIsRiversOwn fails when River changes either.
const insertTopic = "river_insert"

func insertPayload(queue string) string { return fmt.Sprintf(`{"queue": %q}`, queue) }

// notifyInsert tells the workers that queue has a job available, as River does after
// an insert, once the transaction commits.
func notifyInsert(ctx context.Context, tx pgx.Tx, jobs Inserter, queue string) error {
	return jobs.Driver().UnwrapExecutor(tx).NotifyMany(ctx, &riverdriver.NotifyManyParams{
		Payload: []string{insertPayload(queue)},
		Topic:   insertTopic,
	})
}
