package fakereplicate

// This file holds what every API endpoint shares: the kind of call it counts as,
// credentials, rate limits, injected server errors, and Replicate's JSON and
// problem+json bodies.

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// kind is the kind of an API call, as counted in CallStats and rate limited.
type kind int

const (
	kindCreate kind = iota
	kindGet
	kindList
	kindCancel
	kindWebhookSecret
)

// count returns the counter of kind k. Callers hold s.mu.
func (s *Server) count(k kind) *CallCount {
	switch k {
	case kindCreate:
		return &s.calls.Create
	case kindGet:
		return &s.calls.Get
	case kindList:
		return &s.calls.List
	case kindCancel:
		return &s.calls.Cancel
	default:
		return &s.calls.WebhookSecret
	}
}

// countThrottled counts a call of kind k answered 429. Callers hold s.mu.
func (s *Server) countThrottled(k kind) {
	s.count(k).Throttled++
	if k == kindCreate {
		s.stats.RateLimited++
	}
}

// api wraps an API handler of kind k with what every Replicate endpoint does, in this
// order: count the call, reject a missing or wrong credential with 401, apply the rate
// limit of its kind (its headers, and 429 over it), and answer a drawn server error with
// 500 or 503 before the handler can create or change anything.
func (s *Server) api(k kind, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.count(k).Calls++
		s.mu.Unlock()
		if !s.authorized(r) {
			problem(w, http.StatusUnauthorized, "Unauthenticated", "You did not pass a valid authentication token")
			return
		}
		if s.throttle(w, r, k) {
			return
		}
		if status := s.drawServerError(); status != 0 {
			problem(w, status, http.StatusText(status), "Something went wrong on our end. Please try again later.")
			return
		}
		h(w, r)
	}
}

// authorized reports whether r may call the API: always when no Token is configured,
// else when it carries the Token as a Bearer or Token credential.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	scheme, token, _ := cutAuthorization(r)
	if scheme != "Bearer" && scheme != "Token" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.Token)) == 1
}

// cutAuthorization splits r's Authorization header into its scheme and credential.
func cutAuthorization(r *http.Request) (scheme, token string, ok bool) {
	return strings.Cut(r.Header.Get("Authorization"), " ")
}

// drawServerError returns 500 or 503 when this call is drawn to fail, else 0, and
// counts the failure.
func (s *Server) drawServerError() int {
	if s.cfg.ServerErrorRate <= 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng.Float64() >= s.cfg.ServerErrorRate {
		return 0
	}
	s.stats.ServerErrors++
	if s.rng.IntN(2) == 0 {
		return http.StatusInternalServerError
	}
	return http.StatusServiceUnavailable
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone; nothing to do
}

// problem writes Replicate's problem+json error body.
func problem(w http.ResponseWriter, status int, title, detail string) {
	writeProblem(w, map[string]any{"title": title, "detail": detail, "status": status})
}

// notFound writes the problem+json 404 of an unknown prediction or path.
func notFound(w http.ResponseWriter) {
	problem(w, http.StatusNotFound, "Not found", "The requested resource could not be found.")
}

// invalid writes the 422 of an input that fails validation, naming the field.
func invalid(w http.ResponseWriter, field, kind, description string) {
	writeProblem(w, map[string]any{
		"title":  "Input validation failed",
		"detail": "- " + field + ": " + description + "\n",
		"status": http.StatusUnprocessableEntity,
		"invalid_fields": []map[string]string{
			{"type": kind, "field": field, "description": description},
		},
	})
}

func writeProblem(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(body["status"].(int))
	_ = json.NewEncoder(w).Encode(body)
}
