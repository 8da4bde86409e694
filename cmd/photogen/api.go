// This file wires the api: its parts (metrics, events, spans, photos, Replicate's
// webhooks, River UI) built from the configuration and handed to api.New in one call, and
// the api's listeners and live updates added to the process's components.

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"photogen/api"
	"photogen/live"
	"photogen/metrics"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
	"photogen/usage"
)

// apiParts is what the serving process built that the api uses.
type apiParts struct {
	u      uses   // what the process runs: the api alone or with a worker
	cfg    config // cfg.Replicate is the provider's, the fake's under `all` without a token
	st     *store.Store
	jobs   *river.Client[pgx.Tx] // inserts; also works jobs under `all`
	m      *metrics.Metrics
	photos http.Handler // the local photo store's files; nil with S3
	tr     *tracing.Tracing
	e      env
	logger *slog.Logger
}

// addAPI adds the api to g: its metrics listener, its HTTP server (printing the
// development banner once it listens, under PHOTOGEN_DEV=1), then its live updates.
func addAPI(ctx context.Context, g *group, p apiParts) error {
	hub := live.NewHub()
	srv, err := newAPI(ctx, p, hub)
	if err != nil {
		return err
	}
	p.m.RegisterEventStreams(srv.EventStreams)
	if p.cfg.API.JWTSecret == "" {
		p.logger.WarnContext(ctx, "AUTH_JWT_SECRET is not set: the usage endpoints (/api/usage) are off")
	}
	// The api's port faces the internet; its metrics get a listener of their own.
	g.add(httpComponent("metrics server", p.cfg.MetricsAddr, metricsHandler(p.m), 0, p.logger, func(bound string) {
		p.logger.InfoContext(ctx, "metrics served", "addr", bound)
	}))
	g.add(httpComponent("http server", p.cfg.HTTPAddr, srv.Handler(), p.cfg.MaxConnections, p.logger, func(bound string) {
		p.logger.InfoContext(ctx, "photogen started", "mode", p.u.mode(), "addr", bound)
		if p.cfg.Dev {
			newBanner(p.cfg, bound).print(p.e.stdout, uuid.New())
		}
	}))
	// After the HTTP server, so stopped before it: its Shutdown waits for the streams.
	g.add(liveComponent(live.NewListener(p.st, hub, p.logger), hub))
	return nil
}

// newAPI builds the api with every part the configuration asks for.
func newAPI(ctx context.Context, p apiParts, hub *live.Hub) (*api.Server, error) {
	o := api.Options{Config: p.cfg.API, Store: p.st, Jobs: p.jobs, Logger: p.logger, Metrics: p.m, Events: hub, Photos: p.photos}
	if p.cfg.API.JWTSecret != "" {
		o.Usage = usage.NewService(p.st, p.cfg.Limits, usage.NewMetrics(p.m.Registry()))
	}
	if p.tr.On() {
		o.TracerProvider, o.Propagator = p.tr.Provider(), p.tr.Propagator()
	}
	if p.cfg.WebhookSecret != "" || p.cfg.Replicate.Token != "" {
		v, err := provider.NewWebhookVerifier(p.cfg.Replicate, p.cfg.WebhookSecret)
		if err != nil {
			return nil, err
		}
		o.ReplicateWebhooks, o.ReplicateRefused = v, provider.Refusal
	} else {
		p.logger.WarnContext(ctx, "neither REPLICATE_WEBHOOK_SECRET nor REPLICATE_API_TOKEN is set: POST /webhooks/replicate is off")
	}
	if p.cfg.API.OperatorToken != "" {
		ui, err := riverUI(ctx, p.jobs, p.logger)
		if err != nil {
			return nil, err
		}
		o.Admin = ui
	}
	return api.New(o)
}

// riverUI returns River UI's handler for the admin routes, started.
func riverUI(ctx context.Context, client *river.Client[pgx.Tx], logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    riverLogger(logger),
		Prefix:    "/admin/river",
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("start river ui: %w", err)
	}
	return h, nil
}
