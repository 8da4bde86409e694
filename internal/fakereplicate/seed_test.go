package fakereplicate_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// faultSequence makes 60 creates one after another against a fresh fake seeded with seed
// and returns what each met: its HTTP status, and for a created prediction its fate.
func faultSequence(t *testing.T, seed int64) []string {
	e := newEnv(t, fakereplicate.Config{Seed: seed, Latency: 2 * time.Millisecond, Jitter: 3 * time.Millisecond,
		RateLimitRate: 0.2, ServerErrorRate: 0.15, FailRate: 0.3, HangRate: 0.15})
	seq := make([]string, 60)
	index := map[string]int{}
	for i := range seq {
		resp, body := e.do(t, http.MethodPost, "/v1/models/black-forest-labs/flux-schnell/predictions", `{"input":{"prompt":"x"}}`)
		seq[i] = strconv.Itoa(resp.StatusCode)
		if resp.StatusCode == http.StatusCreated {
			var p struct{ ID string }
			require.NoError(t, json.Unmarshal(body, &p))
			index[p.ID] = i
		}
	}
	time.Sleep(time.Second) // every prediction that ends has ended (5 ms at most, but a loaded machine fires timers late)
	var page struct {
		Results []struct{ ID, Status string } `json:"results"`
	}
	require.Eventually(t, func() bool { // the list itself may meet a server error
		resp, body := e.do(t, http.MethodGet, "/v1/predictions", "")
		return resp.StatusCode == http.StatusOK && json.Unmarshal(body, &page) == nil
	}, 2*time.Second, time.Millisecond)
	require.Len(t, page.Results, len(index))
	for _, p := range page.Results {
		seq[index[p.ID]] += ":" + p.Status // processing: a hanging prediction
	}
	return seq
}

func TestSameSeedGivesSameFaults(t *testing.T) {
	t.Parallel()
	first := faultSequence(t, 42)
	require.Equal(t, first, faultSequence(t, 42), "the same seed draws the same faults")
	require.NotEqual(t, first, faultSequence(t, 43), "another seed draws others")
	for _, kind := range []string{"429", "201:succeeded", "201:failed", "201:processing"} {
		require.Contains(t, first, kind)
	}
	require.True(t, slices.Contains(first, "500") || slices.Contains(first, "503"), "%v", first)
}
