package e2e

import (
	"context"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// TestPhotosOutliveTheProvider: every photo URL of a completed generation is served by
// photogen itself, as an image, also once the provider is gone.
func TestPhotosOutliveTheProvider(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 30 * time.Millisecond}, nil)
	_, c := s.startAPI(t)
	s.startWorker(t)
	sub := paySubscribers(t, c, 1)[0]
	st := waitState(t, c, sub.AccessToken, "completed", 30*time.Second)
	requireThirtyUnique(t, st)

	s.stopFake() // Replicate deleted the outputs, or is down: our copies remain
	for _, u := range st.PhotoURLs {
		require.True(t, strings.HasPrefix(u, c.BaseURL+"/photos/"), "served by photogen: %s", u)
		resp, err := http.Get(u)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		require.Contains(t, resp.Header.Get("Cache-Control"), "max-age=31536000")
		_, err = png.Decode(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
	}
	for _, bad := range []string{"/photos/../../etc/passwd", "/photos/", "/photos/photos/", "/photos/photos/nope.png"} {
		resp, err := c.Do(context.Background(), http.MethodGet, bad, nil, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, resp.Status, bad)
	}
	var provider int
	require.NoError(t, s.db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM predictions WHERE provider_output_url LIKE 'http://127.0.0.1:%/files/%'`).Scan(&provider))
	require.Equal(t, 30, provider, "the provider's URLs are kept for audit")
}
