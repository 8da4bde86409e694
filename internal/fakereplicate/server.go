// Package fakereplicate is a faithful in-memory HTTP fake of Replicate's prediction API,
// the one seam photogen's tests fake: the unchanged replicate-go client, given
// replicate.WithBaseURL(url + "/v1"), cannot tell it from the real service for create
// (by model, version or deployment), get, cancel and list. Predictions move from starting
// to processing to a final status on timers; outputs are small real PNGs the fake serves
// itself; faults (429, 5xx, failed and hanging predictions) and latency jitter come from
// one source seeded by Config.Seed, so the same sequence of calls meets the same faults.
// It also holds create answers for Prefer: wait, limits calls per account as Replicate
// does, and sends signed webhooks.
package fakereplicate

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Server is the fake. It is an http.Handler, ready to serve as soon as New returns, and
// safe for any number of concurrent requests: all its state sits behind one mutex.
type Server struct {
	cfg        Config
	mux        *http.ServeMux
	webhookKey []byte          // HMAC key of cfg.WebhookSecret
	hooks      *http.Client    // sends webhooks
	hookSlots  chan struct{}   // a place per webhook POST under way
	stopCtx    context.Context // ends when Close is called
	cancelStop context.CancelFunc
	deliveries sync.WaitGroup // webhook deliveries under way

	mu          sync.Mutex // guards every field below
	rng         *rand.Rand
	preds       map[string]*prediction
	order       []*prediction // oldest first
	stats       Stats
	calls       CallStats
	webhooks    WebhookStats
	createLimit *limiter
	otherLimit  *limiter
	timers      map[*time.Timer]struct{}
	closed      bool
}

// New returns a fake configured by cfg (see Config for the defaults of empty fields).
// It panics when cfg.Validate fails: a malformed WebhookSecret is a mistake in the test
// or the command that builds the fake.
func New(cfg Config) *Server {
	if err := cfg.Validate(); err != nil {
		panic("fakereplicate: " + err.Error())
	}
	cfg = cfg.withDefaults()
	key, _ := webhookKey(cfg.WebhookSecret) // valid: checked above, or the default
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:         cfg,
		webhookKey:  key,
		hooks:       newWebhookClient(cfg.WebhookTransport),
		hookSlots:   make(chan struct{}, maxDeliveries),
		stopCtx:     ctx,
		cancelStop:  cancel,
		rng:         rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		preds:       map[string]*prediction{},
		createLimit: newLimiter(cfg.CreateLimitPerMinute, cfg.RateLimitWindow),
		otherLimit:  newLimiter(cfg.OtherLimitPerMinute, cfg.RateLimitWindow),
		timers:      map[*time.Timer]struct{}{},
	}
	s.mux = s.routes()
	return s
}

// WebhookSecret returns the secret that signs this fake's webhooks (Config.WebhookSecret
// or DefaultWebhookSecret), as GET /v1/webhooks/default/secret answers it.
func (s *Server) WebhookSecret() string { return s.cfg.WebhookSecret }

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/models/{owner}/{name}/predictions", s.api(kindCreate, s.handleCreate))
	mux.HandleFunc("POST /v1/deployments/{owner}/{name}/predictions", s.api(kindCreate, s.handleCreate))
	mux.HandleFunc("POST /v1/predictions", s.api(kindCreate, s.handleCreate))
	mux.HandleFunc("GET /v1/predictions", s.api(kindList, s.handleList))
	mux.HandleFunc("GET /v1/predictions/{id}", s.api(kindGet, s.handleGet))
	mux.HandleFunc("POST /v1/predictions/{id}/cancel", s.api(kindCancel, s.handleCancel))
	mux.HandleFunc("GET /v1/webhooks/default/secret", s.api(kindWebhookSecret, s.handleWebhookSecret))
	mux.HandleFunc("GET /files/{id}/{file}", s.handleFile)
	mux.HandleFunc("GET /_fake/stats", s.handleStats)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
	return mux
}

// ServeHTTP serves the Replicate API under /v1, output files under /files and the
// counters at /_fake/stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops every pending timer: predictions stay in the status they have, and those
// created afterwards never leave starting. It ends the waits of Prefer: wait creates,
// stops the webhook deliveries under way (an attempt in flight is abandoned, no retry
// follows) and returns once they have stopped; no webhook is sent afterwards. The fake
// still answers requests. Close is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.cancelStop()
	for t := range s.timers {
		t.Stop()
		delete(s.timers, t)
	}
	s.mu.Unlock()
	s.deliveries.Wait()
	s.hooks.CloseIdleConnections()
}

// after runs fn with s.mu held once d has passed, unless the fake is closed by then.
// Callers hold s.mu.
func (s *Server) after(d time.Duration, fn func()) {
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.timers, t) // t is set: the caller held s.mu until it was
		if !s.closed {
			fn()
		}
	})
	s.timers[t] = struct{}{}
}
