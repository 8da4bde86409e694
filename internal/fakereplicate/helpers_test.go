package fakereplicate_test

// This file holds what the tests share: a fake behind httptest, the unchanged
// replicate-go client pointed at it, a poll loop and raw HTTP calls.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// token is the credential every test client carries.
const token = "r8_test"

// env is one fake, served on loopback, and the clients that talk to it.
type env struct {
	fake *fakereplicate.Server
	url  string // the fake's root, without /v1
	rc   *replicate.Client
	hc   *http.Client
}

// newEnv serves a fake configured by cfg and returns it with a replicate-go client that
// makes one attempt per call and never sleeps on a backoff.
func newEnv(t *testing.T, cfg fakereplicate.Config) *env {
	t.Helper()
	fake := fakereplicate.New(cfg)
	ts := httptest.NewServer(fake)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(func() { tr.CloseIdleConnections(); ts.Close(); fake.Close() })
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	rc, err := replicate.NewClient(replicate.WithToken(token), replicate.WithBaseURL(ts.URL+"/v1"),
		replicate.WithHTTPClient(hc), replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}))
	require.NoError(t, err)
	return &env{fake: fake, url: ts.URL, rc: rc, hc: hc}
}

// create creates a prediction of model ("owner/name") for prompt through the client.
func (e *env) create(t *testing.T, model string, input replicate.PredictionInput) *replicate.Prediction {
	t.Helper()
	owner, name, _ := strings.Cut(model, "/")
	p, err := e.rc.CreatePredictionWithModel(t.Context(), owner, name, input, nil, false)
	require.NoError(t, err)
	return p
}

// waitFinal polls the prediction until it has a final status, for at most 5 s.
func (e *env) waitFinal(t *testing.T, id string) *replicate.Prediction {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p, err := e.rc.GetPrediction(t.Context(), id)
		require.NoError(t, err)
		if p.Status.Terminated() {
			return p
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("prediction %s never finished", id)
	return nil
}

// do makes a raw call with the test credential and returns the response and its body.
func (e *env) do(t *testing.T, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// raw decodes the prediction's JSON as the API sent it, fields the client drops included.
func raw(t *testing.T, p *replicate.Prediction) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(p.RawJSON(), &m))
	return m
}

// prompt is a valid flux input.
func prompt(extra ...any) replicate.PredictionInput {
	in := replicate.PredictionInput{"prompt": "a red fox in the snow"}
	for i := 0; i+1 < len(extra); i += 2 {
		in[extra[i].(string)] = extra[i+1]
	}
	return in
}

// doWith makes a raw call carrying the headers in header (Authorization included: none
// is added) and returns the response and its body.
func (e *env) doWith(t *testing.T, method, path, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// bearer is an Authorization header carrying tok.
func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// createPath is the create-by-model endpoint of flux-schnell, and createBody a valid body.
const (
	createPath = "/v1/models/black-forest-labs/flux-schnell/predictions"
	createBody = `{"input":{"prompt":"a red fox in the snow"}}`
)
