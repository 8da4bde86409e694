package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// TestWorkerPhotoURLsPointAtTheAPI: the api and a worker run on different ports, the
// worker left on the default HTTP_ADDR (it does not listen there). Without
// PHOTO_BASE_URL the worker refuses to start and says why, in one JSON line; with it
// set to the api's URL, as docs/operations.md tells an operator, every photo URL is the
// api's and the api serves it.
func TestWorkerPhotoURLsPointAtTheAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 20 * time.Millisecond}, nil)
	_, c := s.startAPI(t)

	env := map[string]string{"WORKER_ADDR": freeAddr(t)}
	for k, v := range s.env {
		env[k] = v
	}
	delete(env, "HTTP_ADDR")
	delete(env, "PHOTO_BASE_URL")
	out, err := runCommand(t, env, "worker")
	require.Error(t, err, "a worker without PHOTO_BASE_URL must not start: %s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1, out)
	var line struct {
		Msg    string   `json:"msg"`
		Errors []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &line), out)
	require.Equal(t, "invalid configuration", line.Msg)
	require.Len(t, line.Errors, 1)
	require.Contains(t, line.Errors[0], "PHOTO_BASE_URL is required for a worker with the local photo store")

	env["PHOTO_BASE_URL"] = c.BaseURL // the api's public URL
	start(t, "worker", env)
	sub := paySubscribers(t, c, 1)[0]
	st := waitState(t, c, sub.AccessToken, "completed", 30*time.Second)
	requireThirtyUnique(t, st)
	for _, u := range st.PhotoURLs {
		require.True(t, strings.HasPrefix(u, c.BaseURL+"/photos/"), "on the api: %s", u)
		resp, err := http.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, u)
	}
}
