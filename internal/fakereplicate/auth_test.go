package fakereplicate_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestWrongTokenIs401(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Token: "r8_right"}) // the client carries r8_test
	var apiErr *replicate.APIError
	_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), nil, false)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.Status)
	require.Equal(t, "Unauthenticated", apiErr.Title)
	_, err = e.rc.GetPrediction(t.Context(), "any")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusUnauthorized, apiErr.Status)

	call := func(auth string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/v1/models/o/m/predictions",
			strings.NewReader(`{"input":{"prompt":"x"}}`))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := e.hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, call(""))
	require.Equal(t, http.StatusUnauthorized, call("Basic r8_right"))
	require.Equal(t, http.StatusUnauthorized, call("Bearer r8_righ"))
	require.Equal(t, http.StatusCreated, call("Bearer r8_right"))
	require.Equal(t, http.StatusCreated, call("Token r8_right"))
	require.Equal(t, 2, e.fake.Stats().Created)

	resp, _ := e.do(t, http.MethodGet, "/_fake/stats", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the stats need no token")
}

func TestAPIResponsesCarryRateLimitHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{})
	resp, _ := e.do(t, http.MethodPost, "/v1/models/o/m/predictions", `{"input":{"prompt":"x"}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NotEmpty(t, resp.Header.Get("ratelimit-remaining"))
	require.NotEmpty(t, resp.Header.Get("ratelimit-reset"))

	resp, body := e.do(t, http.MethodGet, "/v1/nothing/here", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Contains(t, string(body), `"status":404`)
}
