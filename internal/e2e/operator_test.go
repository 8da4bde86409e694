package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// TestOperatorRetryContinuesFromTheLedger: a generation fails because the provider
// refuses the worker's token; once the token is fixed, `photogen generation retry`
// re-enqueues it and it completes without paying again for anything.
func TestOperatorRetryContinuesFromTheLedger(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 30 * time.Millisecond, Token: "r8_right"}, nil)
	_, c := s.startAPI(t)
	bad := s.startWorker(t) // REPLICATE_API_TOKEN is r8_e2e_token: refused with 401
	sub := paySubscribers(t, c, 1)[0]
	st := waitState(t, c, sub.AccessToken, "failed", 30*time.Second)
	require.NotNil(t, st.Error)
	require.Contains(t, *st.Error, "401")
	bad.Signal(syscall.SIGTERM)
	bad.Wait(t, 30*time.Second)

	s.env["REPLICATE_API_TOKEN"] = "r8_right"
	s.startWorker(t)
	out, err := runCommand(t, s.env, "generation", "retry", sub.SubscriberID)
	require.NoError(t, err, out)
	require.Contains(t, out, "status      queued")

	requireThirtyUnique(t, waitState(t, c, sub.AccessToken, "completed", 30*time.Second))
	require.Equal(t, 30, s.fake.Stats().Created)

	var email string
	require.NoError(t, s.db.Pool.QueryRow(context.Background(), `SELECT email FROM subscribers`).Scan(&email))
	out, err = runCommand(t, s.env, "generation", "show", email)
	require.NoError(t, err, out)
	require.Contains(t, out, "status      completed")
	require.Contains(t, out, "photos      30/30")
	require.Contains(t, out, "predictions 30 created, 0 failed, 0 in flight")
	require.Equal(t, 2, strings.Count(out, "generate_photos"), "the failed job and the retried one")

	out, err = runCommand(t, s.env, "generation", "retry", email)
	require.Error(t, err)
	require.Contains(t, out, "nothing to retry: the generation is completed")

	out, err = runCommand(t, s.env, "generation", "cancel", email)
	require.Error(t, err)
	require.Contains(t, out, "nothing to cancel: the generation is completed")

	out, err = runCommand(t, s.env, "queue", "stats")
	require.NoError(t, err, out)
	require.Contains(t, out, "oldest available job: none")
	require.Contains(t, out, "completed")
}

// TestOperatorCancelStopsAGenerationUnderWay: `photogen generation cancel` fails a
// generation mid-batch and cancels its predictions in flight at the provider.
func TestOperatorCancelStopsAGenerationUnderWay(t *testing.T) {
	t.Parallel()
	// Predictions long enough (6 s) that the command and the cancel job, slow to start on
	// a loaded machine, surely find all five still running.
	s := newStack(t, fakereplicate.Config{Latency: 6 * time.Second}, nil)
	_, c := s.startAPI(t)
	s.startWorker(t)
	sub := paySubscribers(t, c, 1)[0]
	require.Eventually(t, func() bool { return s.fake.Stats().InFlight == 5 }, 10*time.Second, 5*time.Millisecond)
	out, err := runCommand(t, s.env, "generation", "cancel", sub.SubscriberID)
	require.NoError(t, err, out)
	require.Contains(t, out, "status      failed")
	st := waitState(t, c, sub.AccessToken, "failed", 10*time.Second)
	require.Equal(t, "cancelled by an operator", *st.Error)
	require.Eventually(t, func() bool { return s.fake.Stats().Canceled == 5 }, 10*time.Second, 20*time.Millisecond,
		"the batch in flight is cancelled at the provider")
	require.Equal(t, 5, s.fake.Stats().Created, "nothing created after the cancel")
}
