package fakereplicate_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestCallsAreCountedByKind(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, Token: token})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt())
	resp, _ := e.doWith(t, http.MethodPost, createPath, createBody, bearer("r8_wrong"))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	done := e.waitFinal(t, p.ID) // one get or more
	_, err := e.rc.ListPredictions(t.Context())
	require.NoError(t, err)
	_, err = e.rc.CancelPrediction(t.Context(), p.ID)
	require.NoError(t, err)
	_, err = e.rc.GetDefaultWebhookSecret(t.Context())
	require.NoError(t, err)
	requirePNG(t, e, done.Output.([]any)[0].(string)) // files are not API calls
	e.do(t, http.MethodGet, "/v1/nothing/here", "")   // nor are unknown paths

	calls := e.fake.Calls()
	require.Positive(t, calls.Get.Calls)
	require.Equal(t, fakereplicate.CallStats{
		Create:        fakereplicate.CallCount{Calls: 2}, // the 401 included
		Get:           fakereplicate.CallCount{Calls: calls.Get.Calls},
		List:          fakereplicate.CallCount{Calls: 1},
		Cancel:        fakereplicate.CallCount{Calls: 1},
		WebhookSecret: fakereplicate.CallCount{Calls: 1},
	}, calls)
	require.Equal(t, fakereplicate.Stats{Created: 1, Succeeded: 1, MaxInFlight: 1}, e.fake.Stats(),
		"Created is the total of predictions created")

	resp, body := e.do(t, http.MethodGet, "/_fake/stats", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var served struct {
		fakereplicate.Stats
		Calls    fakereplicate.CallStats    `json:"calls"`
		Webhooks fakereplicate.WebhookStats `json:"webhooks"`
	}
	require.NoError(t, json.Unmarshal(body, &served))
	require.Equal(t, e.fake.Stats(), served.Stats)
	require.Equal(t, calls, served.Calls, "the stats page is not an API call")
	require.Equal(t, fakereplicate.WebhookStats{}, served.Webhooks)
	require.Contains(t, string(body), `"calls":{"create":{"calls":2,"throttled":0}`)
}

func TestLatencyIsLatencyPlusUniformJitter(t *testing.T) {
	t.Parallel()
	const latency, jitter = 40 * time.Millisecond, 60 * time.Millisecond
	e := newEnv(t, fakereplicate.Config{Latency: latency, Jitter: jitter, Seed: 9})
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = e.create(t, "black-forest-labs/flux-schnell", prompt()).ID
	}
	totals := map[float64]bool{}
	for _, id := range ids {
		done := e.waitFinal(t, id)
		total := time.Duration(*done.Metrics.TotalTime * float64(time.Second))
		require.GreaterOrEqual(t, total, latency, "never before Latency")
		require.Less(t, total, latency+jitter+2*time.Second, "Latency+Jitter, give or take a busy machine")
		totals[*done.Metrics.TotalTime] = true
	}
	require.Greater(t, len(totals), 1, "the jitter is drawn per prediction")
}
