package fakereplicate

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// api wraps an API handler with what every Replicate endpoint does: authentication,
// rate-limit headers, and the injected server errors.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			problem(w, http.StatusUnauthorized, "Unauthenticated", "You did not pass a valid authentication token")
			return
		}
		w.Header().Set("ratelimit-remaining", "599")
		w.Header().Set("ratelimit-reset", "1")
		s.mu.Lock()
		fault := s.cfg.ServerErrorRate > 0 && s.rng.Float64() < s.cfg.ServerErrorRate
		status := http.StatusInternalServerError
		if fault {
			s.stats.ServerErrors++
			if s.rng.IntN(2) == 0 {
				status = http.StatusServiceUnavailable
			}
		}
		s.mu.Unlock()
		if fault {
			problem(w, status, http.StatusText(status), "Something went wrong on our end. Please try again.")
			return
		}
		h(w, r)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || token == "" || (scheme != "Bearer" && scheme != "Token") {
		return false
	}
	return s.cfg.Token == "" || token == s.cfg.Token
}

type createRequest struct {
	Version string         `json:"version"`
	Input   map[string]any `json:"input"`
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		problem(w, http.StatusBadRequest, "Bad request", "The request body is not valid JSON")
		return
	}
	model := r.PathValue("owner") + "/" + r.PathValue("name")
	if r.PathValue("owner") == "" {
		if req.Version == "" {
			invalid(w, "version", "version is required")
			return
		}
		model = "unknown/version-" + req.Version
	}
	if p, _ := req.Input["prompt"].(string); strings.TrimSpace(p) == "" {
		invalid(w, "input.prompt", "prompt is required")
		return
	}
	outputs := 1
	if n, ok := req.Input["num_outputs"].(float64); ok {
		outputs = int(n)
	}
	if outputs < 1 || outputs > 4 {
		invalid(w, "input.num_outputs", "num_outputs must be between 1 and 4")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.RateLimitRate > 0 && s.rng.Float64() < s.cfg.RateLimitRate {
		s.stats.RateLimited++
		secs := max(1, int(s.cfg.RetryAfter.Round(time.Second)/time.Second))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		problem(w, http.StatusTooManyRequests, "Too Many Requests",
			"Request was throttled. Your rate limit resets in ~"+strconv.Itoa(secs)+"s.")
		return
	}
	p := &prediction{
		id: newID(), model: model, version: req.Version, input: req.Input, status: "starting",
		outputs: outputs, single: strings.Contains(model, "flux-1.1-pro"),
		createdAt: time.Now(), base: s.base(r),
	}
	if p.version == "" {
		p.version = "fake-version"
	}
	s.preds[p.id] = p
	s.order = append(s.order, p.id)
	s.stats.Created++
	s.stats.InFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.InFlight)
	s.schedule(p)
	writeJSON(w, http.StatusCreated, p.json())
}

// schedule draws the prediction's fate and sets its timers. Callers hold s.mu.
func (s *Server) schedule(p *prediction) {
	d := s.cfg.Latency
	if s.cfg.Jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(s.cfg.Jitter)))
	}
	draw := s.rng.Float64()
	hang := draw < s.cfg.HangRate
	fail := !hang && draw < s.cfg.HangRate+s.cfg.FailRate
	s.after(d/3, func() {
		if p.status == "starting" {
			p.status, p.startedAt = "processing", time.Now()
		}
	})
	if hang {
		return
	}
	s.after(d, func() {
		if p.final() {
			return
		}
		if p.startedAt.IsZero() {
			p.startedAt = time.Now()
		}
		if fail {
			p.status, p.errText = "failed", s.cfg.FailMessage
			s.stats.Failed++
		} else {
			p.status = "succeeded"
			s.stats.Succeeded++
		}
		s.finish(p)
	})
}

// finish closes a prediction's accounting and, with OutputTTL, schedules removal.
// Callers hold s.mu.
func (s *Server) finish(p *prediction) {
	p.completedAt = time.Now()
	s.stats.InFlight--
	if s.cfg.OutputTTL > 0 {
		s.after(s.cfg.OutputTTL, func() { p.dataRemoved = true })
	}
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.preds[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not found", "The requested resource could not be found.")
		return
	}
	writeJSON(w, http.StatusOK, p.json())
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.preds[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not found", "The requested resource could not be found.")
		return
	}
	if !p.final() {
		p.status = "canceled"
		s.stats.Canceled++
		s.finish(p)
	}
	writeJSON(w, http.StatusOK, p.json())
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	after, _ := time.Parse(time.RFC3339Nano, r.URL.Query().Get("created_after"))
	before, _ := time.Parse(time.RFC3339Nano, r.URL.Query().Get("created_before"))
	s.mu.Lock()
	defer s.mu.Unlock()
	results := []map[string]any{}
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.preds[s.order[i]]
		if (!after.IsZero() && !p.createdAt.After(after)) || (!before.IsZero() && !p.createdAt.Before(before)) {
			continue
		}
		results = append(results, p.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"previous": nil, "next": nil, "results": results})
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) base(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return "http://" + r.Host
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// problem writes Replicate's problem+json error body.
func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": title, "detail": detail, "status": status})
}

func invalid(w http.ResponseWriter, field, msg string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"title": "Input validation failed", "detail": "- " + field + ": " + msg, "status": 422,
		"invalid_fields": []map[string]string{{"type": "required", "field": field, "description": msg}},
	})
}
