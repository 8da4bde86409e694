package fakereplicate

// This file moves predictions through their statuses: the timers that start and end
// them, cancel, and the removal of outputs after Config.OutputTTL. Each move sends the
// webhook the prediction asked for.

import (
	"net/http"
	"time"
)

// schedule draws p's latency and fate and arms its timers: processing after a third of
// the latency, then succeeded or failed at the end of it; a hanging prediction stays
// processing. Every draw happens here, in request order, never in a timer, so a seed
// gives the same sequence whatever the timers do. Callers hold s.mu.
func (s *Server) schedule(p *prediction) {
	d := s.cfg.Latency
	if s.cfg.Jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(s.cfg.Jitter)))
	}
	draw := s.rng.Float64()
	s.after(d/3, func() { s.start(p) })
	switch {
	case draw < s.cfg.HangRate:
		// stays processing until canceled
	case draw < s.cfg.HangRate+s.cfg.FailRate:
		s.after(d, func() { s.end(p, statusFailed, s.cfg.FailMessage) })
	default:
		s.after(d, func() { s.end(p, statusSucceeded, "") })
	}
}

// start moves p from starting to processing. Callers hold s.mu.
func (s *Server) start(p *prediction) {
	if p.status == statusStarting {
		p.status, p.startedAt = statusProcessing, time.Now()
		s.emitStart(p)
	}
}

// end gives p its final status unless it already has one. Callers hold s.mu.
func (s *Server) end(p *prediction, status, errText string) {
	if p.final() {
		return
	}
	if p.startedAt.IsZero() {
		p.startedAt = time.Now()
	}
	p.status, p.errText = status, errText
	s.finish(p)
}

// finish stamps p's completion, counts it, wakes those waiting for it, sends its
// completed webhook, and arms the removal of its outputs. Callers hold s.mu and have
// just set p's final status.
func (s *Server) finish(p *prediction) {
	p.completedAt = time.Now()
	close(p.done)
	s.stats.InFlight--
	switch p.status {
	case statusSucceeded:
		s.stats.Succeeded++
	case statusFailed:
		s.stats.Failed++
	case statusCanceled:
		s.stats.Canceled++
	}
	s.emitCompleted(p)
	if s.cfg.OutputTTL > 0 {
		s.after(s.cfg.OutputTTL, func() { p.dataRemoved = true })
	}
}

// handleCancel serves POST /v1/predictions/{id}/cancel: 200 with the prediction, now
// canceled unless it had already ended (then unchanged); 404 when unknown.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	view, ok := s.cancel(r.PathValue("id"))
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// cancel cancels the prediction id if it has not ended and returns its JSON, or false
// when there is no such prediction.
func (s *Server) cancel(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.preds[id]
	if !ok {
		return nil, false
	}
	if !p.final() {
		p.status = statusCanceled
		s.finish(p)
	}
	return p.render(), true
}
