package worker

// Tests of the attempt's copy of the ledger: each change a task makes or hears of, in
// the orders they can arrive in.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/generation"
	"photogen/store"
)

func newCopy(l store.Ledger) *attemptState {
	return &attemptState{ledger: l, fresh: true, tasks: newTasks(), early: map[string]generation.News{}}
}

func finishedNews(p string) generation.News {
	return generation.News{Prediction: p, Status: generation.PredictionFinished, OutputURL: "https://replicate.delivery/" + p + ".png"}
}

func TestACreatedPredictionIsInFlightThenToKeep(t *testing.T) {
	t.Parallel()
	in := store.Intent{ID: 7, Seed: 42, CreatedAt: time.Now().Add(-time.Second)}
	a := newCopy(store.Ledger{Target: 30})
	a.apply(reserved([]store.Intent{in}))
	require.False(t, a.fresh, "a change makes the copy stale")
	require.Equal(t, 1, a.ledger.Open())

	a.apply(started(in, generation.Prediction{ID: "p1", Status: generation.PredictionStarting}))
	require.Empty(t, a.ledger.Intents)
	require.Len(t, a.ledger.InFlight, 1)
	require.Equal(t, in.CreatedAt, a.ledger.InFlight[0].CreatedAt, "reserved then, for the linger's estimate")
	require.Equal(t, 1, a.ledger.Created)

	a.apply(ended(finishedNews("p1")))
	require.Empty(t, a.ledger.InFlight)
	require.Len(t, a.ledger.ToKeep, 1)
	require.Equal(t, "https://replicate.delivery/p1.png", a.ledger.ToKeep[0].OutputURL)
	require.Equal(t, 1, a.ledger.Open(), "to keep is still open")

	a.apply(kept("p1", &store.AppendResult{Appended: 1, Photos: 1, TargetPhotos: 30, Status: generation.StatusGenerating}, false))
	require.Equal(t, 0, a.ledger.Open())
	require.Equal(t, 1, a.ledger.Photos)
	require.Nil(t, a.ended)
	require.Equal(t, 5, a.ledger.Room(store.Window{Batch: 5, Budget: 45}))
}

func TestNewsBeforeTheCreateAnswerWaitsForIt(t *testing.T) {
	t.Parallel()
	in := store.Intent{ID: 1, Seed: 9, CreatedAt: time.Now()}
	a := newCopy(store.Ledger{Target: 30, Intents: []store.Intent{in}})
	a.apply(ended(finishedNews("p1"))) // the webhook beat the create's answer back
	require.Empty(t, a.ledger.ToKeep)
	a.apply(started(in, generation.Prediction{ID: "p1", Status: generation.PredictionStarting}))
	require.Empty(t, a.ledger.InFlight)
	require.Len(t, a.ledger.ToKeep, 1, "the early news applies once the prediction is known")
	require.Empty(t, a.early)
}

func TestAFailedPredictionFreesItsPlace(t *testing.T) {
	t.Parallel()
	a := newCopy(store.Ledger{Target: 30, Created: 5, InFlight: []store.InFlight{{ProviderID: "p1"}, {ProviderID: "p2"}}})
	a.apply(ended(generation.News{Prediction: "p2", Status: generation.PredictionFailed}))
	require.Equal(t, []store.InFlight{{ProviderID: "p1"}}, a.ledger.InFlight)
	require.Equal(t, 1, a.ledger.Failed)
}

func TestChangesAreIdempotentAgainstALookSinceThem(t *testing.T) {
	t.Parallel()
	in := store.Intent{ID: 3, Seed: 5, CreatedAt: time.Now()}
	// A look read after the create committed: the prediction is in flight already.
	a := newCopy(store.Ledger{Target: 30, Created: 1, InFlight: []store.InFlight{{ProviderID: "p1", CreatedAt: in.CreatedAt}}})
	a.apply(started(in, generation.Prediction{ID: "p1", Status: generation.PredictionStarting}))
	require.Len(t, a.ledger.InFlight, 1, "not twice")
	require.Equal(t, 1, a.ledger.Created)

	// A look that found it finished, and a task that kept it: its late news is ignored.
	a.apply(ended(finishedNews("p1")))
	a.tasks.kept["p1"] = true
	a.apply(kept("p1", nil, false))
	a.apply(ended(finishedNews("p1")))
	a.apply(started(in, generation.Prediction{ID: "p1", Status: generation.PredictionStarting}))
	require.Equal(t, 0, a.ledger.Open(), "a kept prediction never comes back")
	require.Empty(t, a.early)
}

func TestASynchronousAnswerEndsAtOnce(t *testing.T) {
	t.Parallel()
	in := store.Intent{ID: 4, Seed: 6, CreatedAt: time.Now()}
	a := newCopy(store.Ledger{Target: 30})
	a.apply(started(in, generation.Prediction{ID: "p1", Status: generation.PredictionSucceeded, OutputURLs: []string{"https://replicate.delivery/p1.png"}}))
	require.Len(t, a.ledger.ToKeep, 1)
	require.Empty(t, a.ledger.InFlight)
}

func TestTheAppendThatCompletesEndsTheAttempt(t *testing.T) {
	t.Parallel()
	a := newCopy(store.Ledger{Target: 30, Photos: 29, ToKeep: []store.Finished{{ProviderID: "p30"}}})
	done := store.AppendResult{Appended: 1, Photos: 30, TargetPhotos: 30, Status: generation.StatusCompleted}
	a.apply(kept("p30", &done, false))
	require.Equal(t, &done, a.ended)
	require.Equal(t, 30, a.ledger.Photos)
}

func TestADiscardedOutputCountsAsFailed(t *testing.T) {
	t.Parallel()
	a := newCopy(store.Ledger{Target: 30, ToKeep: []store.Finished{{ProviderID: "p1"}}})
	a.apply(kept("p1", nil, true))
	a.apply(kept("p1", nil, true)) // a repeat changes nothing
	require.Equal(t, 1, a.ledger.Failed)
	require.Empty(t, a.ledger.ToKeep)
}

func TestACheckPutsOffTheNext(t *testing.T) {
	t.Parallel()
	long := time.Now().Add(-time.Hour)
	a := newCopy(store.Ledger{InFlight: []store.InFlight{{ProviderID: "p1", CheckedAt: long}}})
	a.apply(checked("p1"))
	require.WithinDuration(t, time.Now(), a.ledger.InFlight[0].CheckedAt, time.Second)
}
