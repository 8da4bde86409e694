package fakereplicate

// This file serves the read endpoints: get one prediction, and list them.

import (
	"net/http"
	"time"
)

// handleGet serves GET /v1/predictions/{id}: 200 with the prediction, 404 when unknown.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.preds[r.PathValue("id")]
	var view map[string]any
	if ok {
		view = p.render()
	}
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, view)
}

// handleList serves GET /v1/predictions: every prediction, newest first, on one page
// (previous and next are null), kept to those created strictly after created_after and
// strictly before created_before when given (RFC 3339); 400 for a malformed bound.
func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	after, errAfter := parseBound(r.URL.Query().Get("created_after"))
	before, errBefore := parseBound(r.URL.Query().Get("created_before"))
	if errAfter != nil || errBefore != nil {
		problem(w, http.StatusBadRequest, "Bad request", "created_after and created_before must be RFC 3339 date-times.")
		return
	}
	results := []map[string]any{}
	s.mu.Lock()
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.order[i]
		if (!after.IsZero() && !p.createdAt.After(after)) || (!before.IsZero() && !p.createdAt.Before(before)) {
			continue
		}
		results = append(results, p.render())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"previous": nil, "next": nil, "results": results})
}

// parseBound reads an optional RFC 3339 time (fractional seconds allowed); empty is the
// zero time.
func parseBound(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}
