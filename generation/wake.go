// This file is the one home of the wake-up handshake between a webhook and the
// generation job: its protocol and its races are stated on Wake; the worker's side of
// it (the LISTEN connection, the linger, the look before sleeping) follows what is
// written here.

package generation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
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
//     (store.WakeChannel) with the news (News), both delivered at commit. A sleeping job
//     is made available at once and announced to the workers (retryAsleep). A running
//     job is left alone.
//   - A running attempt, subscribed to its subscriber's rings from its start, is rung by
//     its process's one LISTEN connection and acts on the news itself; wake_pending
//     stays set for finish, which reads the ledger anyway.
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
//   - A ring that comes before the attempt subscribes, or one that is lost while the
//     LISTEN connection is down: the attempt's first look (after it subscribes) reads
//     the news in the ledger, the connection asks every attempt to look when it comes
//     back, and at worst the linger ends at its deadline and finish reads the ledger.
//   - A missed "snoozed" report (a worker that dies): the job sleeps until its next
//     prediction is due for a check, no longer.
func Wake(ctx context.Context, db DB, jobs Inserter, news News) error {
	id := news.Subscriber
	status, err := db.RequestWake(ctx, news)
	if err != nil || status != StatusGenerating {
		return err
	}
	// Inserted as scheduled, not available: River announces every insert of an available
	// job (a duplicate's too), and each announcement makes every worker process fetch.
	// The job is announced below, and only when it is woken.
	res, err := jobs.InsertTx(ctx, db.Tx(), GenerateArgs{SubscriberID: id}, &river.InsertOpts{ScheduledAt: time.Now()})
	if err != nil {
		return fmt.Errorf("wake generation of %s: %w", id, err)
	}
	tracing.LinkJob(ctx, res.Job.Metadata) // from the webhook's trace to the generation's
	return retryAsleep(ctx, db, jobs, res.Job)
}

// News is what a ring tells the attempt lingering on a subscriber: which prediction
// ended, with its ledger status and, when finished, the output to keep, so that the
// attempt acts on it without reading the ledger. A ring without a prediction (news of an
// older sender, or one too long for a notification) says only "look at the ledger".
type News struct {
	Subscriber uuid.UUID        `json:"s"`
	Prediction string           `json:"p,omitempty"`
	Status     PredictionStatus `json:"st,omitempty"`
	OutputURL  string           `json:"u,omitempty"`
}

// maxNewsPayload bounds a ring's payload below PostgreSQL's limit for a notification
// (8000 bytes); longer news rings with the subscriber alone.
const maxNewsPayload = 4000

// Payload is news as the ring's payload: JSON, or the subscriber's id alone when the
// news is too long to carry.
func (n News) Payload() string {
	b, err := json.Marshal(n)
	if err != nil || len(b) > maxNewsPayload {
		return n.Subscriber.String()
	}
	return string(b)
}

// ParseNews reads a ring's payload: JSON news, or a subscriber's id alone (news with no
// prediction: look at the ledger).
func ParseNews(payload string) (News, error) {
	if id, err := uuid.Parse(payload); err == nil {
		return News{Subscriber: id}, nil
	}
	var n News
	if err := json.Unmarshal([]byte(payload), &n); err != nil {
		return News{}, fmt.Errorf("wake-up news %q: %w", payload, err)
	}
	if n.Subscriber == uuid.Nil {
		return News{}, fmt.Errorf("wake-up news %q: no subscriber", payload)
	}
	return n, nil
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
