package fakereplicate

// This file holds the fake's counters, read by tests and by GET /_fake/stats.

import "net/http"

// Stats counts what the fake has done to predictions since New. Every field is exact at
// the moment it is read: all of them change under the fake's one mutex, together with the
// predictions. Calls and Webhooks count the rest.
type Stats struct {
	Created      int `json:"created"`       // predictions created (201): the total of predictions
	Succeeded    int `json:"succeeded"`     // predictions that ended succeeded
	Failed       int `json:"failed"`        // predictions that ended failed
	Canceled     int `json:"canceled"`      // predictions canceled before their end
	InFlight     int `json:"in_flight"`     // created and not yet in a final status
	MaxInFlight  int `json:"max_in_flight"` // the highest InFlight so far, over every caller
	RateLimited  int `json:"rate_limited"`  // creates answered 429, drawn by RateLimitRate or over CreateLimitPerMinute
	ServerErrors int `json:"server_errors"` // API calls answered 500 or 503
}

// CallStats counts API calls by kind since New. Calls to /files and /_fake are not API
// calls.
type CallStats struct {
	Create        CallCount `json:"create"`         // POST of a prediction, by model, version or deployment
	Get           CallCount `json:"get"`            // GET /v1/predictions/{id}
	List          CallCount `json:"list"`           // GET /v1/predictions
	Cancel        CallCount `json:"cancel"`         // POST /v1/predictions/{id}/cancel
	WebhookSecret CallCount `json:"webhook_secret"` // GET /v1/webhooks/default/secret
}

// CallCount counts the calls of one kind.
type CallCount struct {
	Calls     int `json:"calls"`     // calls made, whatever their answer (401, 429 and 5xx included)
	Throttled int `json:"throttled"` // of those, answered 429: over a per-minute limit, or drawn by RateLimitRate
}

// WebhookStats counts webhook deliveries since New. A delivery is one copy of one event
// (a duplicated event makes two); each delivery makes one or more attempts.
type WebhookStats struct {
	Attempts       int `json:"attempts"`        // POSTs made to receivers
	Sent           int `json:"sent"`            // deliveries a receiver answered 2xx
	FailedAttempts int `json:"failed_attempts"` // attempts answered non-2xx, or that failed or timed out
	GaveUp         int `json:"gave_up"`         // deliveries whose every attempt failed
	Dropped        int `json:"dropped"`         // completed events never sent (WebhookDropRate)
	Duplicated     int `json:"duplicated"`      // completed events sent twice (WebhookDuplicateRate)
}

// Stats returns a copy of the prediction counters at this moment.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Calls returns a copy of the API call counters at this moment.
func (s *Server) Calls() CallStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Webhooks returns a copy of the webhook delivery counters at this moment.
func (s *Server) Webhooks() WebhookStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhooks
}

// handleStats serves GET /_fake/stats, without credentials or faults: the fields of
// Stats, with the CallStats under "calls" and the WebhookStats under "webhooks", all
// read at one moment.
func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	view := struct {
		Stats
		Calls    CallStats    `json:"calls"`
		Webhooks WebhookStats `json:"webhooks"`
	}{s.stats, s.calls, s.webhooks}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, view)
}
