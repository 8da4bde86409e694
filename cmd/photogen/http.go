// This file serves HTTP for the serving commands: the api's (or the worker's) listener,
// capped in connections and idle time, and the api's metrics listener.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"photogen/metrics"
)

// idleTimeout is the longest a keep-alive connection waits for its next request. A load
// balancer in front should close idle connections sooner (see docs/security.md).
const idleTimeout = 60 * time.Second

// maxHeaderBytes bounds a request's headers; a usage JWT is about 1 KiB.
const maxHeaderBytes = 64 << 10

// newHTTPServer returns the server every listener of photogen uses: every phase of a
// request bounded in time, idle connections closed after a minute.
func newHTTPServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// httpComponent serves handler on addr, with at most maxConns connections open at once
// (0: no cap; those over it wait in the kernel's accept queue); started reports the
// bound address.
func httpComponent(name, addr string, handler http.Handler, maxConns int, logger *slog.Logger, started func(bound string)) component {
	srv := newHTTPServer(handler, logger)
	return component{
		name: name,
		start: func(_ context.Context, failed chan<- error) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			bound := ln.Addr().String()
			if maxConns > 0 {
				ln = netutil.LimitListener(ln, maxConns)
			}
			go func() {
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					failed <- fmt.Errorf("%s: %w", name, err)
				}
			}()
			started(bound)
			return nil
		},
		stop: srv.Shutdown,
	}
}

// metricsHandler serves m at /metrics, and nothing else.
func metricsHandler(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}
