package fakereplicate_test

import (
	"errors"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestHangingPredictionProcessesUntilCanceled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 30 * time.Millisecond, HangRate: 1})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt())
	require.Equal(t, replicate.Starting, p.Status)
	require.Eventually(t, func() bool {
		got, err := e.rc.GetPrediction(t.Context(), p.ID)
		return err == nil && got.Status == replicate.Processing && got.StartedAt != nil
	}, 2*time.Second, 2*time.Millisecond, "processing after a third of the latency")
	time.Sleep(60 * time.Millisecond) // twice the latency
	got, err := e.rc.GetPrediction(t.Context(), p.ID)
	require.NoError(t, err)
	require.Equal(t, replicate.Processing, got.Status, "a hanging prediction never ends by itself")
	require.Equal(t, 1, e.fake.Stats().InFlight)

	canceled, err := e.rc.CancelPrediction(t.Context(), p.ID)
	require.NoError(t, err)
	require.Equal(t, replicate.Canceled, canceled.Status)
	require.NotNil(t, canceled.CompletedAt)
	require.NotNil(t, canceled.Metrics.TotalTime)
	require.Nil(t, canceled.Output)
	want := fakereplicate.Stats{Created: 1, Canceled: 1, MaxInFlight: 1}
	require.Equal(t, want, e.fake.Stats())

	again, err := e.rc.CancelPrediction(t.Context(), p.ID)
	require.NoError(t, err)
	require.Equal(t, replicate.Canceled, again.Status)
	require.Equal(t, *canceled.CompletedAt, *again.CompletedAt, "a second cancel changes nothing")
	require.Equal(t, want, e.fake.Stats())
}

func TestCancelAfterTheEndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{})
	done := e.waitFinal(t, e.create(t, "black-forest-labs/flux-schnell", prompt()).ID)
	require.Equal(t, replicate.Succeeded, done.Status)
	after, err := e.rc.CancelPrediction(t.Context(), done.ID)
	require.NoError(t, err)
	require.Equal(t, replicate.Succeeded, after.Status)
	require.Equal(t, *done.CompletedAt, *after.CompletedAt)
	require.Equal(t, done.Output, after.Output)
	require.Equal(t, fakereplicate.Stats{Created: 1, Succeeded: 1, MaxInFlight: 1}, e.fake.Stats())

	var apiErr *replicate.APIError
	_, err = e.rc.CancelPrediction(t.Context(), "nosuchprediction")
	require.True(t, errors.As(err, &apiErr), "got %v", err)
	require.Equal(t, 404, apiErr.Status)
}

func TestFailedPredictionCarriesFailMessage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ configured, want string }{
		{"", fakereplicate.DefaultFailMessage},
		{"Prediction interrupted; please retry (code: PA)", "Prediction interrupted; please retry (code: PA)"},
	} {
		e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, FailRate: 1, FailMessage: tt.configured})
		p := e.create(t, "black-forest-labs/flux-schnell", prompt())
		done := e.waitFinal(t, p.ID)
		require.Equal(t, replicate.Failed, done.Status)
		require.Equal(t, tt.want, done.Error)
		require.Nil(t, done.Output)
		require.NotNil(t, done.CompletedAt)
		require.Equal(t, fakereplicate.Stats{Created: 1, Failed: 1, MaxInFlight: 1}, e.fake.Stats())
	}
	require.Equal(t, "All generated images contained NSFW content. Try running it again with a different prompt.",
		fakereplicate.DefaultFailMessage)
}
