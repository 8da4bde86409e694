package fakereplicate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// preferTransport adds a Prefer header to every request: replicate-go has no per-call
// headers, so this is how a caller asks for sync mode.
type preferTransport struct{ prefer string }

func (p preferTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Prefer", p.prefer)
	return http.DefaultTransport.RoundTrip(req)
}

// preferClient is a replicate-go client of e that sends Prefer: prefer.
func preferClient(t *testing.T, e *env, prefer string) *replicate.Client {
	t.Helper()
	rc, err := replicate.NewClient(replicate.WithToken(token), replicate.WithBaseURL(e.url+"/v1"),
		replicate.WithHTTPClient(&http.Client{Transport: preferTransport{prefer}, Timeout: 10 * time.Second}),
		replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}))
	require.NoError(t, err)
	return rc
}

func TestPreferWaitAnswersWithTheFinalPrediction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 20 * time.Millisecond})
	for _, prefer := range []string{"wait=5", "wait", "respond-async, wait=5"} {
		rc := preferClient(t, e, prefer)
		start := time.Now()
		p, err := rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt("num_outputs", 2), nil, false)
		require.NoError(t, err, prefer)
		require.Less(t, time.Since(start), 5*time.Second, prefer)
		require.Equal(t, replicate.Succeeded, p.Status, prefer)
		require.Len(t, p.Output, 2, prefer)
		require.NotNil(t, p.CompletedAt, prefer)
	}
	require.Zero(t, e.fake.Calls().Get.Calls, "no polling needed")

	resp, _ := e.doWith(t, http.MethodPost, createPath, createBody, http.Header{"Prefer": {"wait=5"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), e.url+"/v1/predictions/"), resp.Header.Get("Location"))
}

func TestPreferWaitAnswersInProgressWhenTheWaitEnds(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		cfg  fakereplicate.Config
		want []replicate.Status
	}{
		"slow model": {fakereplicate.Config{Latency: time.Minute}, []replicate.Status{replicate.Starting}},
		"hanging":    {fakereplicate.Config{Latency: 30 * time.Millisecond, HangRate: 1}, []replicate.Status{replicate.Processing}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.cfg)
			start := time.Now()
			p, err := preferClient(t, e, "wait=1").CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), nil, false)
			require.NoError(t, err)
			require.GreaterOrEqual(t, time.Since(start), time.Second, "held for N seconds")
			require.Less(t, time.Since(start), 5*time.Second)
			require.Contains(t, tt.want, p.Status)
			require.Nil(t, p.Output)
		})
	}
}

func TestPreferWaitStopsWhenTheClientGoes(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(fakereplicate.Config{Latency: time.Minute})
	t.Cleanup(fake.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, createPath, strings.NewReader(createBody))
	req.Header.Set("Prefer", "wait=60")
	rec := httptest.NewRecorder()
	start := time.Now()
	fake.ServeHTTP(rec, req) // the handler itself, so its return is observed
	require.Less(t, time.Since(start), 5*time.Second, "the handler stops waiting")
	require.Equal(t, http.StatusCreated, rec.Code)
	require.Contains(t, rec.Body.String(), `"status":"starting"`)
}

func TestCloseEndsPreferWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: time.Minute})
	time.AfterFunc(50*time.Millisecond, e.fake.Close)
	start := time.Now()
	resp, body := e.doWith(t, http.MethodPost, createPath, createBody, http.Header{"Prefer": {"wait"}})
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Contains(t, string(body), `"status":"starting"`)
}

func TestMalformedPreferWaitIs400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{})
	for _, prefer := range []string{"wait=0", "wait=61", "wait=abc", "wait=1.5", "wait="} {
		resp, body := e.doWith(t, http.MethodPost, createPath, createBody, http.Header{"Prefer": {prefer}})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, prefer)
		require.Contains(t, string(body), "Prefer", prefer)
	}
	require.Equal(t, fakereplicate.Stats{}, e.fake.Stats(), "nothing created")
	resp, body := e.doWith(t, http.MethodPost, createPath, createBody, http.Header{"Prefer": {"respond-async"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "other preferences are ignored")
	require.Contains(t, string(body), `"status":"starting"`)
}
