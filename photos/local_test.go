package photos

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newTestLocal returns a Local store in a temporary directory, served by an
// httptest server at /media the way the api mounts it.
func newTestLocal(t *testing.T) (*Local, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	l, err := NewLocal(LocalConfig{Dir: dir, BaseURL: srv.URL + "/media/", NameSecret: testSecret()})
	require.NoError(t, err)
	mux.Handle("/media/", http.StripPrefix("/media", l.Handler()))
	return l, srv, dir
}

// files lists the regular files under dir, relative and slash-separated.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	require.NoError(t, err)
	return out
}

func TestLocalPutServe(t *testing.T) {
	t.Parallel()
	l, srv, dir := newTestLocal(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	data := pngBytes(t)

	url, err := l.Put(ctx, "pred-abc", "image/png", data)
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/media/"+ObjectName(testSecret(), "pred-abc", "image/png"), url)

	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ObjectName(testSecret(), "pred-abc", "image/png"))))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	resp, err := srv.Client().Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	require.NotEmpty(t, resp.Header.Get("Last-Modified"))
	require.Equal(t, data, body)

	head, err := srv.Client().Head(url)
	require.NoError(t, err)
	require.NoError(t, head.Body.Close())
	require.Equal(t, http.StatusOK, head.StatusCode)
	require.Equal(t, "image/png", head.Header.Get("Content-Type"))

	jurl, err := l.Put(ctx, "pred-jpeg", "image/jpeg", jpegBytes(t))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(jurl, ".jpg"))
	jresp, err := srv.Client().Get(jurl)
	require.NoError(t, err)
	require.NoError(t, jresp.Body.Close())
	require.Equal(t, "image/jpeg", jresp.Header.Get("Content-Type"))

	post, err := srv.Client().Post(url, "image/png", strings.NewReader("x"))
	require.NoError(t, err)
	require.NoError(t, post.Body.Close())
	require.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}

func TestLocalPutIdempotent(t *testing.T) {
	t.Parallel()
	l, srv, dir := newTestLocal(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	first, err := l.Put(ctx, "pred-1", "image/png", pngBytes(t))
	require.NoError(t, err)
	other, err := l.Put(ctx, "pred-2", "image/png", pngBytes(t))
	require.NoError(t, err)
	require.NotEqual(t, first, other, "different keys, different names")

	// Concurrent retries of one key: one object, last writer wins whole.
	var wg sync.WaitGroup
	urls := make([]string, 8)
	errs := make([]error, len(urls))
	for i := range urls {
		wg.Go(func() {
			urls[i], errs[i] = l.Put(ctx, "pred-1", "image/png", []byte(strings.Repeat("v", i+1)))
		})
	}
	wg.Wait()
	for i, u := range urls {
		require.NoError(t, errs[i])
		require.Equal(t, first, u, "same key, same URL")
	}
	require.ElementsMatch(t, []string{
		ObjectName(testSecret(), "pred-1", "image/png"),
		ObjectName(testSecret(), "pred-2", "image/png"),
	}, files(t, dir), "one file per key, no temporary files left")

	resp, err := srv.Client().Get(first)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Regexp(t, `^v{1,8}$`, string(body), "one whole write, never a mix")

	otherResp, err := srv.Client().Get(other)
	require.NoError(t, err)
	otherBody, err := io.ReadAll(otherResp.Body)
	require.NoError(t, err)
	require.NoError(t, otherResp.Body.Close())
	require.Equal(t, pngBytes(t), otherBody, "overwriting pred-1 left pred-2 alone")
}

func TestLocalPutRefuses(t *testing.T) {
	t.Parallel()
	l, _, dir := newTestLocal(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	_, err := l.Put(ctx, "k", "text/html", []byte("<html>"))
	require.ErrorIs(t, err, ErrNotImage)
	_, err = l.Put(ctx, "", "image/png", pngBytes(t))
	require.Error(t, err)
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	_, err = l.Put(cctx, "k", "image/png", pngBytes(t))
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, files(t, dir))
}

func TestNewLocalValidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := LocalConfig{Dir: dir, BaseURL: "http://127.0.0.1:8080/media", NameSecret: testSecret()}
	_, err := NewLocal(good)
	require.NoError(t, err)
	require.DirExists(t, filepath.Join(dir, "photos"))

	for name, mutate := range map[string]func(*LocalConfig){
		"no dir":       func(c *LocalConfig) { c.Dir = "" },
		"short secret": func(c *LocalConfig) { c.NameSecret = []byte("too-short") },
		"no secret":    func(c *LocalConfig) { c.NameSecret = nil },
		"relative url": func(c *LocalConfig) { c.BaseURL = "/media" },
	} {
		cfg := good
		mutate(&cfg)
		_, err := NewLocal(cfg)
		require.Error(t, err, name)
	}
}
