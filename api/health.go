// This file answers the load balancer's health checks.

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"photogen/migrations"
)

// readyBody is what the health endpoints answer.
type readyBody struct {
	Status string       `json:"status"`
	Error  *errorDetail `json:"error,omitempty"`
}

// handleHealthz answers 200 while the process serves HTTP at all.
func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, readyBody{Status: "ok"})
}

// handleReadyz answers 200 when the database answers and every migration is applied,
// 503 otherwise.
func (s *Server) handleReadyz(c *gin.Context) {
	if err := s.checkReady(c.Request.Context()); err != nil {
		loggerFrom(c).WarnContext(c.Request.Context(), "not ready", "err", err)
		c.Header("Retry-After", retryAfterSeconds)
		c.JSON(http.StatusServiceUnavailable, readyBody{Status: "unavailable",
			Error: &errorDetail{Code: "not_ready", Message: "database unreachable or migrations pending"}})
		return
	}
	c.JSON(http.StatusOK, readyBody{Status: "ready"})
}

func (s *Server) checkReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.Pool().Ping(ctx); err != nil {
		return err
	}
	if s.ready.Load() {
		return nil
	}
	if err := migrations.Check(ctx, s.store.Pool()); err != nil {
		return err
	}
	s.ready.Store(true)
	return nil
}
