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

// MaxBodyBytes is the largest request body accepted on every route but the webhooks;
// larger ones get 413.
const MaxBodyBytes = 64 << 10

// MaxWebhookBytes is the largest body accepted by the Stripe and Replicate webhooks;
// larger ones get 413. Replicate posts the whole prediction, its logs included (a 200 KB
// delivery is ordinary), and neither sender publishes a maximum: see docs/security.md.
const MaxWebhookBytes = 1 << 20

// bodyLimit is the largest body route c accepts.
func bodyLimit(c *gin.Context) int64 {
	switch c.FullPath() {
	case "/webhooks/stripe", "/webhooks/replicate":
		return MaxWebhookBytes
	}
	return MaxBodyBytes
}

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
	OperatorToken    string        // guards /admin/river/ (Options.Admin); empty: the admin routes do not exist
	StatusCacheSize  int           // status answers kept in memory (with Options.Events); default 4096, -1: none
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
	if c.StatusCacheSize == 0 {
		c.StatusCacheSize = 4096
	}
	if c.RateLimits == nil {
		c.RateLimits, _ = ParseRateLimits("") // the defaults parse
	}
	return c
}

// Validate reports every setting that cannot work, each error naming its field first
// (the command line names the variable instead).
func (c Config) Validate() error {
	var errs []error
	if c.WebhookSecret == "" {
		errs = append(errs, errors.New("WebhookSecret is required"))
	}
	if c.TargetPhotos < 1 || c.TargetPhotos > 1000 {
		errs = append(errs, fmt.Errorf("TargetPhotos %d: want 1..1000", c.TargetPhotos))
	}
	if c.WebhookTolerance < 0 {
		errs = append(errs, errors.New("WebhookTolerance must not be negative"))
	}
	if c.JWTMaxLifetime < 0 {
		errs = append(errs, errors.New("JWTMaxLifetime must not be negative"))
	}
	if c.EventsMaxStreams < 1 {
		errs = append(errs, fmt.Errorf("EventsMaxStreams %d: want at least 1", c.EventsMaxStreams))
	}
	if c.StatusCacheSize < -1 {
		errs = append(errs, fmt.Errorf("StatusCacheSize %d: want -1 (off) or at least 1", c.StatusCacheSize))
	}
	if c.EventsHeartbeat < 0 {
		errs = append(errs, errors.New("EventsHeartbeat must not be negative"))
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("TrustedProxies: %q is neither an address nor a CIDR", p))
		}
	}
	for _, o := range c.CORSOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Server is the api, built by New. Its Handler serves every route it was built with.
type Server struct {
	cfg    Config
	store  *store.Store
	jobs   generation.Inserter
	usage  *usage.Service
	logger *slog.Logger
	ready  atomic.Bool // migrations were found applied once; they do not un-apply

	photos         http.Handler
	replicate      ReplicateWebhooks
	webhookRefused func(error) (string, bool)
	admin          http.Handler
	metrics        Metrics
	tracing        gin.HandlerFunc // a server span per request; nil without a tracer

	events  *live.Hub    // GET /api/blueprint/events, when set
	reads   *sharedReads // the streams' reads, one per subscriber at a time
	streams atomic.Int64 // event streams open

	statusCache *statusCache // status answers, kept while Options.Events hears changes; nil: off
}

// New returns the api built from o completed by its defaults, or every error of o at once.
func New(o Options) (*Server, error) {
	o = o.WithDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg: o.Config, store: o.Store, jobs: o.Jobs, usage: o.Usage, logger: o.Logger,
		photos: o.Photos, replicate: o.ReplicateWebhooks, webhookRefused: o.ReplicateRefused,
		metrics: o.Metrics, events: o.Events,
	}
	if o.Config.OperatorToken != "" {
		s.admin = o.Admin
	}
	if o.Events != nil {
		s.reads = newSharedReads(o.Store)
		s.keepStatusAnswers(o.Events, o.Metrics)
	}
	if o.TracerProvider != nil {
		s.tracing = traceRequests(o.TracerProvider, o.Propagator)
	}
	return s, nil
}

// statusRoute is the route every waiting page polls.
const statusRoute = "/api/blueprint/status"

// Handler returns the routes. More routes can be added to the returned engine.
func (s *Server) Handler() *gin.Engine {
	// Release mode only silences gin's debug route listing; it is process-wide but idempotent.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// A path that matches no route gets NoRoute's JSON 404, not gin's redirect to the
	// path with (or without) a trailing slash, whose body is plain text.
	r.RedirectTrailingSlash = false
	// The client's address is the socket's, unless it is a trusted proxy: then the
	// nearest address in X-Forwarded-For that is not one. New validated the list.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	_ = r.SetTrustedProxies(s.cfg.TrustedProxies)
	if s.tracing != nil {
		r.Use(s.tracing) // first, so that the request's log lines carry its trace id
	}
	r.Use(requestLog(s.logger, statusRoute, "/healthz", "/readyz"), recoverJSON(s.logger))
	if s.metrics != nil {
		r.Use(s.metrics.GinMiddleware())
	}
	r.Use(noSniff, limitBody(bodyLimit))
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
	r.GET(statusRoute, s.limit("status"), s.handleStatus)
	if s.events != nil {
		r.GET("/api/blueprint/events", s.limit("status"), s.handleEvents)
	}
	r.POST("/webhooks/stripe", s.handleStripeWebhook)
	if s.replicate != nil {
		r.POST("/webhooks/replicate", s.handleReplicateWebhook)
	}
	s.mountOps(r)
	if s.photos != nil {
		photos := wrapJSONErrors(s.photos) // its 404 for "/photos/", "/photos/../x", ... in JSON
		r.GET("/photos/*name", photos)
		r.HEAD("/photos/*name", photos)
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
	c.Writer.Header()[noSniffKey] = noSniffValue
	c.Next()
}

// noSniff's header, its value shared by every answer, as the status answer's are (see
// statusCacheControl).
var (
	noSniffKey   = http.CanonicalHeaderKey("X-Content-Type-Options")
	noSniffValue = []string{"nosniff"}
)
