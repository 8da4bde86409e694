// Paths that match no route, or that a mounted file handler refuses, answer the JSON
// error body like every other 4xx: never gin's plain-text redirect or net/http's text.

package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/photos"
)

// localPhotos mounts a local photo store's files at /photos/, as `photogen api` does,
// with one photo in it, whose path it returns.
func localPhotos(t testing.TB, path *string) option {
	return withParts(func(t testing.TB, _ *env, o *api.Options) {
		l, err := photos.NewLocal(photos.LocalConfig{Dir: t.TempDir(), BaseURL: "http://127.0.0.1:1",
			NameSecret: []byte("noroute-test-photo-name-secret!!")})
		require.NoError(t, err)
		u, err := l.Put(context.Background(), "p_noroute", "image/png", pngBytes)
		require.NoError(t, err)
		*path = strings.TrimPrefix(u, "http://127.0.0.1:1")
		o.Photos = l.Handler()
	})
}

// pngBytes is the smallest PNG: a 1x1 transparent pixel.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// rawGet sends "method path" exactly as written (no client cleans "..") over a real
// socket and returns the answer with its body read.
func rawGet(t *testing.T, base, method, path string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: photogen.test\r\nConnection: close\r\n\r\n", method, path)
	require.NoError(t, err)
	req, _ := http.NewRequestWithContext(context.Background(), method, base+"/", nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestUnroutedPathsAnswerTheJSONError(t *testing.T) {
	t.Parallel()
	var photo string
	e := newEnv(t, localPhotos(t, &photo))
	resp, body := rawGet(t, e.url, http.MethodGet, photo)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", photo, body)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, pngBytes, body)
	for _, c := range []struct {
		path   string
		status int
		code   string
	}{
		{"/photos/", http.StatusNotFound, "not_found"},
		{"/photos/../x", http.StatusNotFound, "not_found"},
		{"/photos/../../etc/passwd", http.StatusNotFound, "not_found"},
		{"/photos/nope.png", http.StatusNotFound, "not_found"},
		{"/assets", http.StatusNotFound, "not_found"},
		{"/assets/nope.js", http.StatusNotFound, "not_found"},
		{"/api/blueprint/status/", http.StatusNotFound, "not_found"},
		{"/openapi.json/", http.StatusNotFound, "not_found"},
		{"/nope/", http.StatusNotFound, "not_found"},
	} {
		resp, body = rawGet(t, e.url, http.MethodGet, c.path)
		require.Equal(t, c.status, resp.StatusCode, "GET %s: %s", c.path, body)
		require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"), "GET %s", c.path)
		var got struct {
			Error struct{ Code, Message string }
		}
		require.NoError(t, json.Unmarshal(body, &got), "GET %s: %s", c.path, body)
		require.Equal(t, c.code, got.Error.Code, "GET %s", c.path)
		require.NotEmpty(t, got.Error.Message, "GET %s", c.path)
		require.Empty(t, resp.Header.Get("Location"), "GET %s is not redirected", c.path)

		head, body := rawGet(t, e.url, http.MethodHead, c.path)
		require.Equal(t, c.status, head.StatusCode, "HEAD %s", c.path)
		require.Empty(t, body, "HEAD %s", c.path)
	}
}
