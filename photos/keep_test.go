// This file tests the Keeper: a photo downloaded through its Transport (tracing's, in
// the wiring) and stored under its prediction's name.

package photos

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeeperDownloadsThroughItsTransport(t *testing.T) {
	t.Parallel()
	img := pngBytes(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(img) }))
	defer srv.Close()
	local, err := NewLocal(LocalConfig{Dir: t.TempDir(), BaseURL: "http://photos.test", NameSecret: testSecret()})
	require.NoError(t, err)
	var seen atomic.Int32
	k := &Keeper{Bucket: local, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	url, err := k.Keep(t.Context(), "pred-1", srv.URL+"/out-0.png")
	require.NoError(t, err)
	require.Equal(t, "http://photos.test/"+ObjectName(testSecret(), "pred-1", "image/png"), url)
	require.Equal(t, int32(1), seen.Load())
}
