// Package api is photogen's HTTP surface (gin): subscriber sign-up, the Stripe checkout
// webhook, the generate and status endpoints the front end calls, and health checks.
// Handlers bind and validate, call one typed function, and render; SQL lives in store/.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"photogen/store"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 64 << 10

// Config configures the API.
type Config struct {
	WebhookSecret    string        // Stripe's endpoint secret, whsec_...
	WebhookTolerance time.Duration // how old a signed webhook may be; default 5m
	TargetPhotos     int           // photos per subscriber; default 30
	JWTSecret        string        // HS256 secret of the usage endpoints' JWTs; empty disables them
	Limits           Limits        // monthly usage limits by counter; default DefaultLimits
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.WebhookTolerance == 0 {
		c.WebhookTolerance = 5 * time.Minute
	}
	if c.TargetPhotos == 0 {
		c.TargetPhotos = 30
	}
	if c.Limits == nil {
		c.Limits, _ = ParseLimits(DefaultLimits)
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.WebhookSecret == "":
		return errors.New("STRIPE_WEBHOOK_SECRET is required")
	case c.TargetPhotos < 1 || c.TargetPhotos > 1000:
		return errors.New("photos per subscriber must be 1..1000")
	}
	return nil
}

// Server holds the API's dependencies.
type Server struct {
	cfg    Config
	store  *store.Store
	river  *river.Client[pgx.Tx] // inserts jobs; the api never works them
	logger *slog.Logger
	ready  atomic.Bool // migrations were found applied once; they do not un-apply
	photos http.Handler

	admin      http.Handler // River UI, when OPERATOR_TOKEN is set
	adminToken string
	metrics    Metrics
}

// ServePhotos makes the api serve h at /photos/ (the local photo store's files). Call it
// before Handler.
func (s *Server) ServePhotos(h http.Handler) { s.photos = h }

// New returns a Server; cfg must have passed Validate after WithDefaults.
func New(cfg Config, s *store.Store, riverClient *river.Client[pgx.Tx], logger *slog.Logger) *Server {
	return &Server{cfg: cfg.WithDefaults(), store: s, river: riverClient, logger: logger}
}

// Handler returns the routes. More routes can be added to the returned engine.
func (s *Server) Handler() *gin.Engine {
	// Release mode only silences gin's debug route listing; it is process-wide but idempotent.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(requestLog(s.logger), recoverJSON(s.logger))
	if s.metrics != nil {
		r.Use(s.metrics.GinMiddleware())
	}
	r.Use(limitBody(MaxBodyBytes))
	r.NoRoute(func(c *gin.Context) { renderError(c, errNotFound("no such endpoint")) })
	r.NoMethod(func(c *gin.Context) {
		renderError(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed"})
	})
	r.HandleMethodNotAllowed = true

	r.GET("/healthz", s.handleHealthz)
	r.GET("/readyz", s.handleReadyz)
	r.POST("/api/blueprint/subscribers", s.handleCreateSubscriber)
	r.POST("/api/blueprint/generate-paid", s.handleGeneratePaid)
	r.GET("/api/blueprint/status", s.handleStatus)
	r.POST("/webhooks/stripe", s.handleStripeWebhook)
	s.mountOps(r)
	if s.photos != nil {
		r.GET("/photos/*name", gin.WrapH(s.photos))
		r.HEAD("/photos/*name", gin.WrapH(s.photos))
	}
	if s.cfg.JWTSecret != "" {
		usage := r.Group("/api/usage", requireJWT([]byte(s.cfg.JWTSecret)))
		usage.GET("", s.handleUsage)
		usage.POST("/:counter/consume", s.handleConsume)
	}
	return r
}
