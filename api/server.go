// Package api is photogen's HTTP surface (gin): subscriber sign-up, the Stripe checkout
// webhook, the generate and status endpoints the front end calls, the usage counters,
// health checks and the operator routes. Handlers bind and validate, call one typed
// function (generation, checkout, usage or store), and render; the api never works a
// job and never calls the image provider.
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"photogen/generation"
	"photogen/live"
	"photogen/store"
	"photogen/usage"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 64 << 10

// Config configures the API.
type Config struct {
	WebhookSecret    string        // Stripe's endpoint secret, whsec_...
	WebhookTolerance time.Duration // how old a signed webhook may be; default 5m
	TargetPhotos     int           // photos per subscriber; default 30
	JWTSecret        string        // HS256 secret of the usage endpoints' JWTs; empty disables them
	JWTAudience      string        // the `aud` a usage JWT must carry; empty: not checked
	JWTIssuer        string        // the `iss` a usage JWT must carry; empty: not checked
	JWTMaxLifetime   time.Duration // longest a usage JWT may be valid; default 24h
	RateLimits       RateLimits    // per client address; nil: DefaultRateLimits
	TrustedProxies   []string      // addresses or CIDRs whose X-Forwarded-For is believed; none by default
	CORSOrigins      []string      // origins whose scripts may call /api/ (CORS); none by default: no CORS headers
	EventsMaxStreams int           // event streams open at once in this process; default 1000
	EventsHeartbeat  time.Duration // between an event stream's `: ping` comments; default 15s
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.WebhookTolerance == 0 {
		c.WebhookTolerance = 5 * time.Minute
	}
	if c.TargetPhotos == 0 {
		c.TargetPhotos = 30
	}
	if c.JWTMaxLifetime == 0 {
		c.JWTMaxLifetime = 24 * time.Hour
	}
	if c.EventsMaxStreams == 0 {
		c.EventsMaxStreams = 1000
	}
	if c.EventsHeartbeat == 0 {
		c.EventsHeartbeat = 15 * time.Second
	}
	if c.RateLimits == nil {
		c.RateLimits, _ = ParseRateLimits("") // the defaults parse
	}
	return c
}

// Validate reports every setting that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.WebhookSecret == "" {
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET is required"))
	}
	if c.TargetPhotos < 1 || c.TargetPhotos > 1000 {
		errs = append(errs, errors.New("PHOTOS_PER_SUBSCRIBER must be 1..1000"))
	}
	if c.WebhookTolerance < 0 {
		errs = append(errs, errors.New("STRIPE_WEBHOOK_TOLERANCE must not be negative"))
	}
	if c.JWTMaxLifetime < 0 {
		errs = append(errs, errors.New("AUTH_JWT_MAX_LIFETIME must not be negative"))
	}
	if c.EventsMaxStreams < 1 {
		errs = append(errs, errors.New("EVENTS_MAX_STREAMS must be at least 1"))
	}
	if c.EventsHeartbeat < 0 {
		errs = append(errs, errors.New("the event streams' heartbeat must not be negative"))
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", p))
		}
	}
	for _, o := range c.CORSOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Server holds the API's dependencies.
type Server struct {
	cfg    Config
	store  *store.Store
	jobs   generation.Inserter // inserts jobs; the api never works them
	usage  *usage.Service
	logger *slog.Logger
	ready  atomic.Bool // migrations were found applied once; they do not un-apply
	photos http.Handler

	replicate      ReplicateWebhooks // POST /webhooks/replicate, when set
	webhookRefused func(error) (string, bool)

	admin      http.Handler // River UI, when OPERATOR_TOKEN is set
	adminToken string
	metrics    Metrics
	tracing    gin.HandlerFunc // a server span per request, when Trace was called

	events  *live.Hub    // GET /api/blueprint/events, when set (ServeEvents)
	reads   *sharedReads // the streams' reads, one per subscriber at a time
	streams atomic.Int64 // event streams open
}

// ServePhotos makes the api serve h at /photos/ (the local photo store's files). Call it
// before Handler.
func (s *Server) ServePhotos(h http.Handler) { s.photos = h }

// New returns a Server with cfg completed by its defaults, or the configuration's errors.
// usage may be nil when cfg has no JWTSecret (the usage endpoints are then off).
func New(cfg Config, s *store.Store, jobs generation.Inserter, u *usage.Service, logger *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.JWTSecret != "" && u == nil {
		return nil, errors.New("api: the usage endpoints need a usage.Service")
	}
	return &Server{cfg: cfg, store: s, jobs: jobs, usage: u, logger: logger}, nil
}

// Handler returns the routes. More routes can be added to the returned engine.
func (s *Server) Handler() *gin.Engine {
	// Release mode only silences gin's debug route listing; it is process-wide but idempotent.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// The client's address is the socket's, unless it is a trusted proxy: then the
	// nearest address in X-Forwarded-For that is not one. New validated the list.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	_ = r.SetTrustedProxies(s.cfg.TrustedProxies)
	if s.tracing != nil {
		r.Use(s.tracing) // first, so that the request's log lines carry its trace id
	}
	r.Use(requestLog(s.logger), recoverJSON(s.logger))
	if s.metrics != nil {
		r.Use(s.metrics.GinMiddleware())
	}
	r.Use(noSniff, limitBody(MaxBodyBytes))
	if len(s.cfg.CORSOrigins) > 0 {
		r.Use(corsMiddleware(s.cfg.CORSOrigins))
	}
	r.NoRoute(func(c *gin.Context) { renderError(c, errNotFound("no such endpoint")) })
	r.NoMethod(func(c *gin.Context) {
		renderError(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed"})
	})
	r.HandleMethodNotAllowed = true

	r.GET("/healthz", s.handleHealthz)
	r.GET("/readyz", s.handleReadyz)
	r.POST("/api/blueprint/subscribers", s.limit("signup"), s.handleCreateSubscriber)
	r.POST("/api/blueprint/generate-paid", s.limit("generate"), s.handleGeneratePaid)
	r.GET("/api/blueprint/status", s.limit("status"), s.handleStatus)
	if s.events != nil {
		r.GET("/api/blueprint/events", s.limit("status"), s.handleEvents)
	}
	r.POST("/webhooks/stripe", s.handleStripeWebhook)
	if s.replicate != nil {
		r.POST("/webhooks/replicate", s.handleReplicateWebhook)
	}
	s.mountOps(r)
	if s.photos != nil {
		r.GET("/photos/*name", gin.WrapH(s.photos))
		r.HEAD("/photos/*name", gin.WrapH(s.photos))
	}
	mountPage(r)
	if s.cfg.JWTSecret != "" {
		usage := r.Group("/api/usage", requireJWT(s.cfg))
		usage.GET("", s.handleUsage)
		usage.POST("/:counter/consume", s.handleConsume)
	}
	return r
}

// noSniff tells browsers to trust the Content-Type of every answer, never to guess it.
func noSniff(c *gin.Context) {
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}
