package fakereplicate_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestOutputTTLRemovesOutputAndFiles(t *testing.T) {
	t.Parallel()
	const ttl = 1500 * time.Millisecond // room for a loaded machine to see the output before it goes
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, OutputTTL: ttl})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt("num_outputs", 2))
	done := e.waitFinal(t, p.ID)
	ended, err := time.Parse(time.RFC3339Nano, *done.CompletedAt) // polling may see the end late
	require.NoError(t, err)
	require.Equal(t, false, raw(t, done)["data_removed"])
	urls := done.Output.([]any)
	require.Len(t, urls, 2)
	requirePNG(t, e, urls[0].(string))

	var gone *replicate.Prediction
	require.Eventually(t, func() bool {
		got, err := e.rc.GetPrediction(t.Context(), p.ID)
		gone = got
		return err == nil && raw(t, got)["data_removed"] == true
	}, 10*time.Second, 5*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(ended), ttl, "not before the TTL")
	require.Equal(t, replicate.Succeeded, gone.Status, "the status stays")
	require.Nil(t, gone.Output)
	for _, u := range urls {
		resp, err := e.hc.Get(u.(string))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	}
	require.Equal(t, fakereplicate.Stats{Created: 1, Succeeded: 1, MaxInFlight: 1}, e.fake.Stats())
}

func TestCloseFreezesPredictionsAndIsIdempotent(t *testing.T) {
	t.Parallel()
	const latency = 500 * time.Millisecond
	e := newEnv(t, fakereplicate.Config{Latency: latency})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt())
	e.fake.Close()
	e.fake.Close()
	// A busy machine may let the prediction start before Close; whatever its status
	// then, it must keep it.
	frozen, err := e.rc.GetPrediction(t.Context(), p.ID)
	require.NoError(t, err, "a closed fake still answers")
	require.Contains(t, []replicate.Status{replicate.Starting, replicate.Processing}, frozen.Status)
	time.Sleep(latency + 100*time.Millisecond)
	got, err := e.rc.GetPrediction(t.Context(), p.ID)
	require.NoError(t, err)
	require.Equal(t, frozen.Status, got.Status, "no timer fires after Close")
	require.Equal(t, fakereplicate.Stats{Created: 1, InFlight: 1, MaxInFlight: 1}, e.fake.Stats())
}
