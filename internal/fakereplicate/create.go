package fakereplicate

// This file serves the three create endpoints: by model, by version, by deployment.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// createBody is the JSON a create posts. Stream is accepted and ignored.
type createBody struct {
	Version             string         `json:"version"`
	Input               map[string]any `json:"input"`
	Webhook             string         `json:"webhook"`
	WebhookEventsFilter []string       `json:"webhook_events_filter"`
}

// handleCreate answers 201 with a new prediction in status starting, or with Prefer:
// wait, in the status it has once final or once the wait is over; 429 when drawn to be
// throttled (before the body is read, as a gateway would); 400 for a body that is not
// JSON or a malformed wait preference; 422 for a missing version, an invalid input, a
// webhook that is not an http(s) URL or an unknown webhook event.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	if s.drawRateLimit() {
		throttled(w, strconv.Itoa(s.cfg.retryAfterSeconds()))
		return
	}
	wait, err := parseWait(r.Header.Get("Prefer"))
	if err != nil {
		problem(w, http.StatusBadRequest, "Bad request", "Invalid Prefer header: "+err.Error()+".")
		return
	}
	var body createBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		problem(w, http.StatusBadRequest, "Bad request", "The request body is not valid JSON.")
		return
	}
	model, version := r.PathValue("owner")+"/"+r.PathValue("name"), ""
	if r.PathValue("owner") == "" {
		if body.Version == "" {
			invalid(w, "version", "required", "version is required")
			return
		}
		model, version = splitVersion(body.Version)
	}
	if version == "" {
		sum := sha256.Sum256([]byte(model))
		version = hex.EncodeToString(sum[:])
	}
	outputs, ok := validateInput(w, body.Input)
	if !ok {
		return
	}
	hook, ok := parseHook(w, body.Webhook, body.WebhookEventsFilter)
	if !ok {
		return
	}
	p := &prediction{
		id: newID(), model: model, version: version, input: body.Input, outputs: outputs,
		single: strings.Contains(model, "flux-1.1-pro"), base: s.base(r), status: statusStarting,
		hook: hook, done: make(chan struct{}),
	}
	view := s.admit(p)
	if wait > 0 {
		view = s.await(r.Context(), p, wait)
		w.Header().Set("Location", p.base+"/v1/predictions/"+p.id)
	}
	writeJSON(w, http.StatusCreated, view)
}

// splitVersion reads a create's version: "owner/name:id", "owner/name", or a bare id.
func splitVersion(v string) (model, version string) {
	if name, id, ok := strings.Cut(v, ":"); ok {
		return name, id
	}
	if strings.Contains(v, "/") {
		return v, ""
	}
	return "fake/" + v[:min(len(v), 8)], v
}

// validateInput checks a flux input: a non-empty string prompt and, when present, an
// integer num_outputs from 1 to 4. It returns the number of outputs, or writes a 422.
func validateInput(w http.ResponseWriter, input map[string]any) (int, bool) {
	raw, present := input["prompt"]
	prompt, isString := raw.(string)
	switch {
	case !present:
		invalid(w, "input", "required", "prompt is required")
		return 0, false
	case !isString:
		invalid(w, "input.prompt", "invalid_type", "Invalid type. Expected: string")
		return 0, false
	case strings.TrimSpace(prompt) == "":
		invalid(w, "input.prompt", "string_gte", "String length must be greater than or equal to 1")
		return 0, false
	}
	n, present := input["num_outputs"]
	if !present {
		return 1, true
	}
	f, isNumber := n.(float64)
	if !isNumber || f != float64(int(f)) || f < 1 || f > 4 {
		invalid(w, "input.num_outputs", "number_range", "Must be an integer from 1 to 4")
		return 0, false
	}
	return int(f), true
}

// drawRateLimit reports whether this create is drawn to be throttled, and counts it.
func (s *Server) drawRateLimit() bool {
	if s.cfg.RateLimitRate <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	limited := s.rng.Float64() < s.cfg.RateLimitRate
	if limited {
		s.countThrottled(kindCreate)
	}
	return limited
}

// admit records p as created now, counts it, arms its timers and returns its JSON.
func (s *Server) admit(p *prediction) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.createdAt = time.Now()
	p.logsBytes = s.cfg.LogsBytes
	if s.cfg.BadOutputRate > 0 {
		p.badOutput = s.rng.Float64() < s.cfg.BadOutputRate
	}
	if s.cfg.MissingFileRate > 0 {
		p.missingFile = s.rng.Float64() < s.cfg.MissingFileRate
	}
	s.drawHookFaults(p)
	s.preds[p.id] = p
	s.order = append(s.order, p)
	s.stats.Created++
	s.stats.InFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.InFlight)
	s.schedule(p)
	return p.render()
}

// base is the public URL that p's files and urls start with.
func (s *Server) base(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return "http://" + r.Host
}
