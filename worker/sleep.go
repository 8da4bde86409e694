// This file is how a generation job sleeps between attempts, and how it is woken when
// news came while it ran.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"photogen/generation"
	"photogen/store"
)

// ErrAsleep is joined to the snooze a generation job returns when its attempt ended
// with nothing to do until the provider has news: it sleeps until woken (a webhook) or
// until its next prediction is due for a check. It is the job's normal rest, not a
// failure; River gives the attempt back.
var ErrAsleep = errors.New("waiting for the provider")

// asleep is what Work returns for a job to sleep for d.
func asleep(d time.Duration) error { return errors.Join(ErrAsleep, river.JobSnooze(d)) }

// WakeAsleep wakes, as River reports them asleep, the generation jobs that got news
// while they ran (generation.WakePending), until ctx ends. Run it in the process whose
// River client works the jobs; a missed report only delays the job to its next check.
func WakeAsleep(ctx context.Context, client *river.Client[pgx.Tx], st *store.Store, logger *slog.Logger) {
	events, cancel := client.Subscribe(river.EventKindJobSnoozed)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Job == nil || ev.Job.Kind != (generation.GenerateArgs{}).Kind() {
				continue
			}
			err := st.WithTx(ctx, func(tx *store.Store) error {
				return generation.WakePending(ctx, tx, client, ev.Job)
			})
			if err != nil && ctx.Err() == nil {
				logger.WarnContext(ctx, "wake a job that got news while it ran", "job_id", ev.Job.ID, "err", err)
			}
		}
	}
}
