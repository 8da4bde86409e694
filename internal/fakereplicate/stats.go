package fakereplicate

// This file holds the fake's counters, read by tests and by GET /_fake/stats.

import "net/http"

// Stats counts what the fake has done since New. Every field is exact at the moment it
// is read: all of them change under the fake's one mutex, together with the predictions.
type Stats struct {
	Created      int `json:"created"`       // predictions created (201)
	Succeeded    int `json:"succeeded"`     // predictions that ended succeeded
	Failed       int `json:"failed"`        // predictions that ended failed
	Canceled     int `json:"canceled"`      // predictions canceled before their end
	InFlight     int `json:"in_flight"`     // created and not yet in a final status
	MaxInFlight  int `json:"max_in_flight"` // the highest InFlight so far
	RateLimited  int `json:"rate_limited"`  // creates answered 429
	ServerErrors int `json:"server_errors"` // API calls answered 500 or 503
}

// Stats returns a copy of the counters at this moment.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// handleStats serves GET /_fake/stats: Stats as JSON, without credentials or faults.
func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}
