package fakereplicate_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// headerRecorder passes requests to the default transport and keeps the last response's
// headers, without touching what the client sees.
type headerRecorder struct {
	mu   sync.Mutex
	last http.Header
}

func (h *headerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if resp != nil {
		h.mu.Lock()
		h.last = resp.Header.Clone()
		h.mu.Unlock()
	}
	return resp, err
}

func TestRateLimitedCreateIsAnAPIErrorWithRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{RateLimitRate: 1})
	rec := &headerRecorder{}
	rc, err := replicate.NewClient(replicate.WithToken(token), replicate.WithBaseURL(e.url+"/v1"),
		replicate.WithHTTPClient(&http.Client{Transport: rec, Timeout: 5 * time.Second}),
		replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}))
	require.NoError(t, err)

	// replicate-go sleeps the Retry-After (1 s here) even when it makes no further attempt.
	_, err = rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), nil, false)
	var apiErr *replicate.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.Status)
	require.Equal(t, "Request was throttled. Your rate limit resets in ~1s.", apiErr.Detail)
	require.Equal(t, "1", rec.last.Get("Retry-After"))
	require.Equal(t, fakereplicate.Stats{RateLimited: 1}, e.fake.Stats(), "nothing created")

	_, err = rc.GetPrediction(t.Context(), "nosuchprediction")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.Status, "only creates are throttled")
}

func TestRetryAfterIsWholeSecondsRoundedUp(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "1", 300 * time.Millisecond: "1", 1500 * time.Millisecond: "2", 7 * time.Second: "7"} {
		e := newEnv(t, fakereplicate.Config{RateLimitRate: 1, RetryAfter: d})
		resp, body := e.do(t, http.MethodPost, "/v1/models/o/m/predictions", `{"input":{"prompt":"x"}}`)
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.Equal(t, want, resp.Header.Get("Retry-After"), "RetryAfter %v", d)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		var p map[string]any
		require.NoError(t, json.Unmarshal(body, &p))
		require.Equal(t, "Request was throttled. Your rate limit resets in ~"+want+"s.", p["detail"])
		require.EqualValues(t, 429, p["status"])
	}
}

func TestServerErrorsAreAPIErrorsAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{ServerErrorRate: 1})
	ctx := t.Context()
	var apiErr *replicate.APIError
	_, err := e.rc.CreatePredictionWithModel(ctx, "black-forest-labs", "flux-schnell", prompt(), nil, false)
	require.ErrorAs(t, err, &apiErr)
	require.Contains(t, []int{500, 503}, apiErr.Status)
	_, err = e.rc.GetPrediction(ctx, "any")
	require.ErrorAs(t, err, &apiErr)
	require.Contains(t, []int{500, 503}, apiErr.Status)
	_, err = e.rc.CancelPrediction(ctx, "any")
	require.ErrorAs(t, err, &apiErr)
	require.Contains(t, []int{500, 503}, apiErr.Status)
	resp, _ := e.do(t, http.MethodGet, "/v1/predictions", "")
	require.Contains(t, []int{500, 503}, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Equal(t, fakereplicate.Stats{ServerErrors: 4}, e.fake.Stats())
}

func TestInvalidInputIs422WithInvalidFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{})
	for name, in := range map[string]replicate.PredictionInput{
		"no prompt":          {"num_outputs": 1},
		"empty prompt":       {"prompt": "  "},
		"prompt not string":  {"prompt": 7},
		"zero outputs":       prompt("num_outputs", 0),
		"too many outputs":   prompt("num_outputs", 5),
		"fractional outputs": prompt("num_outputs", 1.5),
	} {
		_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", in, nil, false)
		var apiErr *replicate.APIError
		require.ErrorAs(t, err, &apiErr, name)
		require.Equal(t, http.StatusUnprocessableEntity, apiErr.Status, name)
		require.Equal(t, "Input validation failed", apiErr.Title, name)
	}
	resp, body := e.do(t, http.MethodPost, "/v1/predictions", `{"input":{"prompt":"x"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "a version is required")
	var p struct {
		InvalidFields []struct{ Type, Field, Description string } `json:"invalid_fields"`
	}
	require.NoError(t, json.Unmarshal(body, &p))
	require.Len(t, p.InvalidFields, 1)
	require.Equal(t, "version", p.InvalidFields[0].Field)
	resp, _ = e.do(t, http.MethodPost, "/v1/models/o/m/predictions", `{"input":`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, fakereplicate.Stats{}, e.fake.Stats(), "nothing created")
}
