// This file hands back, at once, the generation jobs that River still has running under
// this process's client ID though no attempt of theirs runs here: attempts whose outcome
// River's completer could not write while PostgreSQL was unreachable (it retries a few
// times, then drops it), and fetches whose answer was lost with the connection (the rows
// were marked running for this client, which never saw them). Both would otherwise wait
// for the rescuer.

package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"photogen/generation"
	"photogen/store"
)

// After the wake-up connection comes back (the sign that PostgreSQL was unreachable),
// the attempts that ended here and whose outcome River has not reported written are
// looked at after each of these delays: River's completer retries a failed write for up
// to about 37 s (3 tries of 10 s at most, 1-2-4 s apart) before it gives up.
var handBackAfter = [...]time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 45 * time.Second}

// endedKeep is how long an ended attempt is remembered when River never reports it
// written: longer than the last look of handBackAfter.
const endedKeep = 2 * time.Minute

// attempts remembers this process's generation attempts: those running, and those
// ended whose outcome River has not yet reported written (an event of the client). An
// attempt is known by its job's id and attempted_at, the time River's fetch wrote when
// it gave the job to this process: a later fetch writes another.
type attempts struct {
	mu      sync.Mutex
	running map[int64]bool
	ended   map[int64]endedAttempt
	// reconnected is signalled when the wake-up connection comes back.
	reconnected chan struct{}
}

// endedAttempt is an attempt that ended here: when River fetched it, when it ended.
type endedAttempt struct {
	attemptedAt time.Time
	at          time.Time
}

func newAttempts() *attempts {
	return &attempts{running: map[int64]bool{}, ended: map[int64]endedAttempt{}, reconnected: make(chan struct{}, 1)}
}

// lostSettle is how long a job must have been fetched for this process, and not be
// running here, before it counts as lost: a fetched job's attempt starts within
// milliseconds of the fetch.
const lostSettle = 10 * time.Second

// runningIDs returns the ids of the jobs this process works now.
func (a *attempts) runningIDs() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]int64, 0, len(a.running))
	for id := range a.running {
		ids = append(ids, id)
	}
	return ids
}

// start records that this process works job id.
func (a *attempts) start(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running[id] = true
	delete(a.ended, id)
}

// end records that the attempt of job id fetched at attemptedAt ended here.
func (a *attempts) end(id int64, attemptedAt time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.running, id)
	a.ended[id] = endedAttempt{attemptedAt: attemptedAt, at: time.Now()}
}

// written records that River wrote the outcome of job id's last attempt.
func (a *attempts) written(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.ended, id)
}

// unwritten returns the attempts that ended here at least a second ago and that River
// has not reported written (job id -> attempted_at), and forgets those older than
// endedKeep.
func (a *attempts) unwritten() map[int64]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[int64]time.Time{}
	for id, e := range a.ended {
		switch age := time.Since(e.at); {
		case age > endedKeep:
			delete(a.ended, id)
		case age >= time.Second:
			out[id] = e.attemptedAt
		}
	}
	return out
}

// signalReconnected wakes handBack: the wake-up connection came back.
func (a *attempts) signalReconnected() {
	select {
	case a.reconnected <- struct{}{}:
	default:
	}
}

// handBack runs until ctx ends: after each reconnection of the wake-up connection, it
// hands back the jobs whose outcome was dropped (handBackNow), after each delay of
// handBackAfter.
func (w *GenerateWorker) handBack(ctx context.Context, client *river.Client[pgx.Tx]) {
	var looks []time.Time // when to look next, after the last reconnection
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.attempts.reconnected:
			looks = looks[:0]
			for _, d := range handBackAfter {
				looks = append(looks, time.Now().Add(d))
			}
		case <-timer.C:
			if len(looks) > 0 {
				looks = looks[1:]
				w.handBackNow(ctx, client)
			}
		}
		if len(looks) > 0 {
			timer.Reset(time.Until(looks[0]))
		}
	}
}

// handBackNow hands back the generation jobs still running under this client's ID that
// no attempt here runs: those whose attempt ended here and was not reported written
// (store.HandBackJobs), and those fetched for this client more than lostSettle ago that
// it does not run (store.HandBackLostJobs: a lost fetch). It inserts a fresh job for each
// of their subscribers in the same transaction, announced to the workers.
func (w *GenerateWorker) handBackNow(ctx context.Context, client *river.Client[pgx.Tx]) {
	ended, running, kind := w.attempts.unwritten(), w.attempts.runningIDs(), (generation.GenerateArgs{}).Kind()
	var n int
	err := w.store.WithTx(ctx, func(tx *store.Store) error {
		subs, err := tx.HandBackLostJobs(ctx, client.ID(), kind, running, lostSettle)
		if err == nil && len(ended) > 0 {
			var more []uuid.UUID
			more, err = tx.HandBackJobs(ctx, client.ID(), kind, ended)
			subs = append(subs, more...)
		}
		for _, id := range subs {
			if err == nil {
				_, err = generation.Request(ctx, tx, client, id)
			}
		}
		n = len(subs)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			w.logger.WarnContext(ctx, "hand back jobs whose outcome River dropped", "err", err)
		}
		return
	}
	if n > 0 {
		w.obs.JobsHandedBack(n)
		w.logger.InfoContext(ctx, "handed back jobs whose outcome River dropped or whose fetch was lost", slog.Int("jobs", n))
	}
}
