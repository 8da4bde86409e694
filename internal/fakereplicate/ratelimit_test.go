package fakereplicate_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// requireThrottled requires Replicate's 429 and returns its Retry-After in seconds.
func requireThrottled(t *testing.T, resp *http.Response, body []byte) int {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, string(body))
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in whole seconds")
	require.Equal(t, "0", resp.Header.Get("ratelimit-remaining"))
	require.Equal(t, strconv.Itoa(secs), resp.Header.Get("ratelimit-reset"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(body, &p))
	require.Equal(t, map[string]any{
		"title":  "Request was throttled",
		"detail": "Request was throttled. Your rate limit resets in ~" + strconv.Itoa(secs) + "s.",
		"status": float64(429),
	}, p)
	return secs
}

func TestCreateLimitThrottlesPerAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute, CreateLimitPerMinute: 3})
	var id string
	for i := range 3 {
		resp, body := e.doWith(t, http.MethodPost, createPath, createBody, bearer("r8_alice"))
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		require.Equal(t, strconv.Itoa(2-i), resp.Header.Get("ratelimit-remaining"))
		var p struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &p))
		id = p.ID
	}
	resp, body := e.doWith(t, http.MethodPost, createPath, createBody, bearer("r8_alice"))
	secs := requireThrottled(t, resp, body)
	require.InDelta(t, 60, secs, 10, "the window frees a place a minute after the first create")

	resp, _ = e.doWith(t, http.MethodPost, createPath, createBody, bearer("r8_bob"))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "another account has its own window")
	resp, _ = e.doWith(t, http.MethodGet, "/v1/predictions/"+id, "", bearer("r8_alice"))
	require.Equal(t, http.StatusOK, resp.StatusCode, "other calls have their own limit")

	require.Equal(t, fakereplicate.Stats{Created: 4, InFlight: 4, MaxInFlight: 4, RateLimited: 1}, e.fake.Stats())
	require.Equal(t, fakereplicate.CallStats{
		Create: fakereplicate.CallCount{Calls: 5, Throttled: 1},
		Get:    fakereplicate.CallCount{Calls: 1},
	}, e.fake.Calls())
}

func TestCreateLimitHoldsUnderParallelCreates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute, CreateLimitPerMinute: 10})
	codes := make(chan int, 30)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			resp, _ := e.do(t, http.MethodPost, createPath, createBody)
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	require.Equal(t, map[int]int{http.StatusCreated: 10, http.StatusTooManyRequests: 20}, count)
	require.Equal(t, fakereplicate.CallCount{Calls: 30, Throttled: 20}, e.fake.Calls().Create)
	require.Equal(t, 10, e.fake.Stats().Created)
}

func TestOtherLimitCoversGetListCancelAndSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute, OtherLimitPerMinute: 4})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt())
	calls := []struct{ method, path string }{
		{http.MethodGet, "/v1/predictions/" + p.ID},
		{http.MethodGet, "/v1/predictions"},
		{http.MethodPost, "/v1/predictions/" + p.ID + "/cancel"},
		{http.MethodGet, "/v1/webhooks/default/secret"},
	}
	for i, c := range calls {
		resp, body := e.do(t, c.method, c.path, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", c.method, c.path, body)
		require.Equal(t, strconv.Itoa(3-i), resp.Header.Get("ratelimit-remaining"))
	}
	for _, c := range calls {
		resp, body := e.do(t, c.method, c.path, "")
		requireThrottled(t, resp, body)
	}
	resp, _ := e.do(t, http.MethodPost, createPath, createBody)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "creates have their own limit")

	// replicate-go sees an APIError. It would sleep the Retry-After even without a
	// further attempt, so this client hides the header, as photogen's worker does.
	rec := &headerRecorder{}
	rc, err := replicate.NewClient(replicate.WithToken(token), replicate.WithBaseURL(e.url+"/v1"),
		replicate.WithHTTPClient(&http.Client{Transport: stripRetryAfter{rec}, Timeout: 5 * time.Second}),
		replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}))
	require.NoError(t, err)
	_, err = rc.GetPrediction(t.Context(), p.ID)
	var apiErr *replicate.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.Status)
	require.Equal(t, "Request was throttled", apiErr.Title)
	require.Regexp(t, `^Request was throttled\. Your rate limit resets in ~\d+s\.$`, apiErr.Detail)
	require.NotEmpty(t, rec.last.Get("Retry-After"))

	require.Equal(t, fakereplicate.CallStats{
		Create:        fakereplicate.CallCount{Calls: 2},
		Get:           fakereplicate.CallCount{Calls: 3, Throttled: 2},
		List:          fakereplicate.CallCount{Calls: 2, Throttled: 1},
		Cancel:        fakereplicate.CallCount{Calls: 2, Throttled: 1},
		WebhookSecret: fakereplicate.CallCount{Calls: 2, Throttled: 1},
	}, e.fake.Calls())
	require.Zero(t, e.fake.Stats().RateLimited, "RateLimited counts creates only")
}

// stripRetryAfter records each response's headers, then removes Retry-After.
type stripRetryAfter struct{ rec *headerRecorder }

func (s stripRetryAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.rec.RoundTrip(req)
	if resp != nil {
		resp.Header.Del("Retry-After")
	}
	return resp, err
}

func TestRateLimitWindowSlides(t *testing.T) {
	t.Parallel()
	const window = 300 * time.Millisecond
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute, CreateLimitPerMinute: 2, RateLimitWindow: window})
	for range 2 {
		resp, _ := e.do(t, http.MethodPost, createPath, createBody)
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}
	resp, body := e.do(t, http.MethodPost, createPath, createBody)
	require.Equal(t, 1, requireThrottled(t, resp, body), "Retry-After is rounded up to a whole second")
	time.Sleep(window + 50*time.Millisecond)
	resp, _ = e.do(t, http.MethodPost, createPath, createBody)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "the window has moved on")
	require.Equal(t, "1", resp.Header.Get("ratelimit-remaining"), "both earlier creates have left it")
}
