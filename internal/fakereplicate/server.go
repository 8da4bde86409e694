// Package fakereplicate is a faithful in-memory HTTP fake of Replicate's prediction API:
// the unchanged replicate-go client talks to it as to the real service. Predictions move
// from starting to processing to a final status on timers, outputs are small real PNGs
// served by the fake itself, and faults (429, 5xx, failed and hanging predictions) are
// drawn from one seeded source so a run can be repeated.
package fakereplicate

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// DefaultLatency and DefaultJitter are flux-schnell's figures (median 0.72 s end to
// end), the defaults of `photogen fake-replicate` and of `make run`.
const (
	DefaultLatency = 700 * time.Millisecond
	DefaultJitter  = 300 * time.Millisecond
)

// Config sets the fake's latency and faults. The zero value answers at once, without faults.
type Config struct {
	Latency   time.Duration // fixed time from create to the final status
	Jitter    time.Duration // extra uniform random [0, Jitter) per prediction
	Seed      int64         // seeds every random draw
	Token     string        // when set, requests must carry it as a Bearer (or Token) credential
	PublicURL string        // base of output and urls.get; default "http://" + the request's Host

	RateLimitRate   float64       // share of creates answered 429 with Retry-After
	RetryAfter      time.Duration // Retry-After of those 429s; default 1s
	ServerErrorRate float64       // share of API calls answered 500 or 503, changing nothing
	FailRate        float64       // share of predictions that end failed with FailMessage
	FailMessage     string        // default: flux's NSFW message
	HangRate        float64       // share of predictions that stay processing until canceled
	OutputTTL       time.Duration // when >0, outputs are removed this long after the end
}

const defaultFailMessage = "All generated images contained NSFW content. Try running it again with a different prompt."

// Stats counts what the fake did. InFlight is created and not yet final.
type Stats struct {
	Created      int `json:"created"`
	Succeeded    int `json:"succeeded"`
	Failed       int `json:"failed"`
	Canceled     int `json:"canceled"`
	InFlight     int `json:"in_flight"`
	MaxInFlight  int `json:"max_in_flight"`
	RateLimited  int `json:"rate_limited"`
	ServerErrors int `json:"server_errors"`
}

// Server is the fake. It is an http.Handler; all its state sits behind one mutex.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	mu     sync.Mutex
	rng    *rand.Rand
	preds  map[string]*prediction
	order  []string // ids, oldest first
	stats  Stats
	timers map[*time.Timer]struct{}
	closed bool
}

// New returns a fake configured by cfg.
func New(cfg Config) *Server {
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.FailMessage == "" {
		cfg.FailMessage = defaultFailMessage
	}
	s := &Server{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		preds:  map[string]*prediction{},
		timers: map[*time.Timer]struct{}{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/models/{owner}/{name}/predictions", s.api(s.handleCreate))
	mux.HandleFunc("POST /v1/deployments/{owner}/{name}/predictions", s.api(s.handleCreate))
	mux.HandleFunc("POST /v1/predictions", s.api(s.handleCreate))
	mux.HandleFunc("GET /v1/predictions", s.api(s.handleList))
	mux.HandleFunc("GET /v1/predictions/{id}", s.api(s.handleGet))
	mux.HandleFunc("POST /v1/predictions/{id}/cancel", s.api(s.handleCancel))
	mux.HandleFunc("GET /files/{id}/{file}", s.handleFile)
	mux.HandleFunc("GET /_fake/stats", s.handleStats)
	s.mux = mux
	return s
}

// ServeHTTP serves the fake's endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Stats returns the counters at this moment.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close stops every pending timer; predictions in flight stay where they are. It is
// safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for t := range s.timers {
		t.Stop()
		delete(s.timers, t)
	}
}

// after runs fn under the mutex after d, unless the fake is closed. Callers hold s.mu.
func (s *Server) after(d time.Duration, fn func()) {
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.timers, t)
		if !s.closed {
			fn()
		}
	})
	s.timers[t] = struct{}{}
}
