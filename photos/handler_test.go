package photos

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHandlerRefusesTraversalAndListings(t *testing.T) {
	t.Parallel()
	l, srv, dir := newTestLocal(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := l.Put(ctx, "pred-1", "image/png", pngBytes(t))
	require.NoError(t, err)

	// Files that must never be served: one beside the store, one inside Dir
	// but outside photos/, and a symlink with a valid name that leaves Dir.
	outside := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-secret.png")
	require.NoError(t, os.WriteFile(outside, pngBytes(t), 0o644))
	t.Cleanup(func() { _ = os.Remove(outside) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret.png"), pngBytes(t), 0o644))
	link := ObjectName(testSecret(), "symlink", "image/png")
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, filepath.FromSlash(link))))
	require.NoError(t, os.Mkdir(filepath.Join(dir, filepath.FromSlash(ObjectName(testSecret(), "dir", "image/gif"))), 0o755))

	// Straight to the handler, so no ServeMux path cleaning helps it.
	h := http.StripPrefix("/media", l.Handler())
	for _, target := range []string{
		"/media/", "/media", "/media/photos", "/media/photos/",
		"/media/secret.png",
		"/media/../" + filepath.Base(dir) + "-secret.png",
		"/media/photos/../secret.png",
		"/media/photos/%2e%2e/secret.png",
		"/media/photos/..%2fsecret.png",
		"/media/photos/%2e%2e%2f%2e%2e%2f" + filepath.Base(dir) + "-secret.png",
		"/media//etc/passwd",
		"/media/" + link,
		"/media/" + ObjectName(testSecret(), "dir", "image/gif"),
		"/media/" + ObjectName(testSecret(), "missing", "image/png"),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, target)
		require.Empty(t, rec.Header().Get("Cache-Control"), target)
	}
	// The same harness does serve a real object, so the 404s above are not
	// an artefact of it.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/media/"+ObjectName(testSecret(), "pred-1", "image/png"), nil))
	require.Equal(t, http.StatusOK, rec.Code)

	// And over the network, through the ServeMux as the api has it.
	for _, path := range []string{"/media/", "/media/photos/", "/media/secret.png", "/media/photos/%2e%2e/secret.png"} {
		resp, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err, path)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
}

func TestHandlerConditionalGet(t *testing.T) {
	t.Parallel()
	l, srv, _ := newTestLocal(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	url, err := l.Put(ctx, "pred-1", "image/gif", gifBytes(t))
	require.NoError(t, err)

	resp, err := srv.Client().Get(url)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, "image/gif", resp.Header.Get("Content-Type"))

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("If-Modified-Since", resp.Header.Get("Last-Modified"))
	again, err := srv.Client().Do(req)
	require.NoError(t, err)
	require.NoError(t, again.Body.Close())
	require.Equal(t, http.StatusNotModified, again.StatusCode)
}
