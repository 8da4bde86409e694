// The status endpoint's cache hit in process: the whole handler chain (request log at
// the info level, metrics, rate limit, headers, token hash, cache, ETag) without the
// network, so that its CPU and allocations per request can be measured alone
// (BenchmarkStatusVsSelect in internal/e2e measures it over TCP against pgx).

package api

import (
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/metrics"
)

// discardWriter is an http.ResponseWriter that keeps the status and the body's size.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}

// BenchmarkStatusHit serves a status answer kept in the cache, as a poll from a client
// address of its own per 200 requests (the status class's burst) makes it.
func BenchmarkStatusHit(b *testing.B) {
	cfg := Config{WebhookSecret: "whsec_x"}.WithDefaults()
	s := &Server{cfg: cfg, logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		metrics: metrics.New()}
	s.statusCache = newStatusCache(16)
	s.statusCache.Listening(true)
	token, _ := newAccessToken()
	body := []byte(`{"state":"completed","paid":true,"totalPhotos":30,"targetPhotos":30,"photoUrls":[],"updatedAt":"2026-01-01T00:00:00Z","error":null,"delay":null}`)
	key := sha256.Sum256([]byte(token))
	_, version, _ := s.statusCache.get(key)
	etag := `"0123456789abcdef0123456789abcdef"`
	s.statusCache.put(version, key, statusAnswer{id: uuid.New(), body: body, etag: etag, etagHeader: []string{etag}})
	h := s.Handler()
	req, err := http.NewRequest(http.MethodGet, "/api/blueprint/status", nil)
	require.NoError(b, err)
	req.Body = http.NoBody // as net/http's server hands a GET over
	req.Header.Set("Authorization", "Bearer "+token)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%200 == 0 {
			req.RemoteAddr = "127.1." + strconv.Itoa(i/200%250) + "." + strconv.Itoa(i/50000%250+1) + ":40000"
		}
		clear(w.h)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n != len(body) {
			b.Fatalf("status %d, %d bytes", w.status, w.n)
		}
	}
}
