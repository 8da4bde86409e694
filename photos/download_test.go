package photos

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingTransport counts the body bytes its caller reads.
type countingTransport struct {
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.read}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// endless writes zero bytes until the client goes away or ctx ends.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	chunk := make([]byte, 32<<10)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func downloadServer(t *testing.T) *httptest.Server {
	t.Helper()
	pngData, jpegData, gifData := pngBytes(t), jpegBytes(t), gifBytes(t)
	mux := http.NewServeMux()
	serve := func(path, header string, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", header)
			_, _ = w.Write(body)
		})
	}
	serve("/a.png", "application/octet-stream", pngData) // header is not trusted either way
	serve("/a.jpg", "image/jpeg", jpegData)
	serve("/a.gif", "image/gif", gifData)
	serve("/page", "image/png", []byte("<!DOCTYPE html><html><body>not a photo</body></html>"))
	serve("/big", "image/png", make([]byte, 2<<20))
	mux.HandleFunc("/endless", endless)
	for _, code := range []int{404, 410, 500, 503, 429} {
		mux.HandleFunc("/status/"+strconv.Itoa(code), func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", code)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestDownload(t *testing.T) {
	t.Parallel()
	srv := downloadServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	client := srv.Client()
	const limit = 1 << 20

	t.Run("images", func(t *testing.T) {
		for path, want := range map[string]string{"/a.png": "image/png", "/a.jpg": "image/jpeg", "/a.gif": "image/gif"} {
			data, ct, err := Download(ctx, client, srv.URL+path, limit)
			require.NoError(t, err, path)
			require.Equal(t, want, ct, path)
			require.NotEmpty(t, data)
		}
		data, _, err := Download(ctx, client, srv.URL+"/a.png", limit)
		require.NoError(t, err)
		require.Equal(t, pngBytes(t), data)
	})

	t.Run("html claiming png is not an image", func(t *testing.T) {
		_, _, err := Download(ctx, client, srv.URL+"/page", limit)
		require.ErrorIs(t, err, ErrNotImage)
	})

	t.Run("declared length over the limit", func(t *testing.T) {
		_, _, err := Download(ctx, client, srv.URL+"/big", limit)
		require.ErrorIs(t, err, ErrTooLarge)
	})

	t.Run("endless body is cut at the limit", func(t *testing.T) {
		counter := &countingTransport{}
		_, _, err := Download(ctx, &http.Client{Transport: counter}, srv.URL+"/endless", limit)
		require.ErrorIs(t, err, ErrTooLarge)
		require.LessOrEqual(t, counter.read.Load(), int64(limit+1), "read no more than maxBytes+1")
		require.Greater(t, counter.read.Load(), int64(limit))
	})

	t.Run("404 and 410 are gone", func(t *testing.T) {
		for _, code := range []int{404, 410} {
			_, _, err := Download(ctx, client, srv.URL+"/status/"+strconv.Itoa(code), limit)
			require.ErrorIs(t, err, ErrGone, code)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, code, se.StatusCode)
		}
	})

	t.Run("5xx and 429 are transient", func(t *testing.T) {
		for _, code := range []int{500, 503, 429} {
			_, _, err := Download(ctx, client, srv.URL+"/status/"+strconv.Itoa(code), limit)
			require.Error(t, err)
			require.NotErrorIs(t, err, ErrGone, code)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, code, se.StatusCode)
		}
	})

	t.Run("network failure is transient", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		_, _, err := Download(ctx, client, dead.URL+"/a.png", limit)
		require.Error(t, err)
		require.False(t, errors.Is(err, ErrGone) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNotImage))
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, ccancel := context.WithCancel(ctx)
		ccancel()
		_, _, err := Download(cctx, client, srv.URL+"/a.png", limit)
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("bad arguments", func(t *testing.T) {
		_, _, err := Download(ctx, nil, srv.URL+"/a.png", limit)
		require.Error(t, err)
		_, _, err = Download(ctx, client, srv.URL+"/a.png", 0)
		require.Error(t, err)
	})
}

func TestDownloadWebP(t *testing.T) {
	t.Parallel()
	// A minimal lossless WebP header; DetectContentType needs only the RIFF
	// and WEBPVP signatures, and Download checks no more than that.
	webp := append([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00"), make([]byte, 10)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(webp)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	data, ct, err := Download(ctx, srv.Client(), srv.URL, 1<<10)
	require.NoError(t, err)
	require.Equal(t, "image/webp", ct)
	require.Equal(t, webp, data)
}
