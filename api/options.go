// This file is what the api is built from: its settings and the parts it serves with,
// completed by their defaults and validated once, in New.

package api

import (
	"errors"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"photogen/generation"
	"photogen/live"
	"photogen/store"
	"photogen/usage"
)

// Options is everything New builds the api from. Config and the required parts (Store,
// Jobs) must be set; each optional part, when nil, leaves its routes out.
type Options struct {
	Config Config
	Store  *store.Store        // required: every read and write
	Jobs   generation.Inserter // required: inserts jobs; the api never works them
	Usage  *usage.Service      // required when Config.JWTSecret is set: the usage endpoints
	Logger *slog.Logger        // default: discards

	Metrics Metrics   // requests and webhook deliveries counted; nil: not counted
	Events  *live.Hub // GET /api/blueprint/events, woken by the hub a live.Listener feeds; nil: 404, the page polls

	// Photos serves /photos/ (the local photo store's files); nil: not served.
	Photos http.Handler

	// ReplicateWebhooks checks POST /webhooks/replicate's deliveries; nil: the route is
	// absent. ReplicateRefused, required with it, tells its refusals (bad, missing or
	// stale signature, not a prediction), with the code to answer 400 with, from its
	// failures.
	ReplicateWebhooks ReplicateWebhooks
	ReplicateRefused  func(error) (code string, refused bool)

	// Admin (River UI) is mounted at /admin/river/ behind Config.OperatorToken; without
	// the token the admin routes do not exist (404).
	Admin http.Handler

	// TracerProvider and Propagator, both or neither (tracing.Tracing's), make the api
	// record a server span per request, continuing the caller's trace; nil: no spans.
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
}

// WithDefaults returns o with Config and Logger completed by their defaults.
func (o Options) WithDefaults() Options {
	o.Config = o.Config.WithDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// validate reports every setting and every missing part that cannot work.
func (o Options) validate() error {
	errs := []error{o.Config.Validate()}
	if o.Store == nil {
		errs = append(errs, errors.New("api: Options.Store is required"))
	}
	if o.Jobs == nil {
		errs = append(errs, errors.New("api: Options.Jobs is required"))
	}
	if o.Config.JWTSecret != "" && o.Usage == nil {
		errs = append(errs, errors.New("api: the usage endpoints (Config.JWTSecret) need Options.Usage"))
	}
	if (o.ReplicateWebhooks == nil) != (o.ReplicateRefused == nil) {
		errs = append(errs, errors.New("api: Options.ReplicateWebhooks and ReplicateRefused go together"))
	}
	if (o.TracerProvider == nil) != (o.Propagator == nil) {
		errs = append(errs, errors.New("api: Options.TracerProvider and Propagator go together"))
	}
	return errors.Join(errs...)
}
