package fakereplicate

// This file holds Replicate's per-account rate limits: a sliding window of recent calls
// per token and kind of limit, and the 429 a call over the limit meets.

import (
	"net/http"
	"strconv"
	"time"
)

// limiter admits at most limit calls per account in any window; a zero limit admits all.
// The Server's mutex guards it.
type limiter struct {
	limit    int
	window   time.Duration
	accounts map[string][]time.Time // per account, the times of admitted calls still in the window, oldest first
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, accounts: map[string][]time.Time{}}
}

// take admits a call of account at now when the window has room, and reports how many
// more calls it would admit now and how long until it frees a place (the oldest admitted
// call leaves the window). A throttled call takes no place.
func (l *limiter) take(account string, now time.Time) (ok bool, remaining int, reset time.Duration) {
	calls := l.accounts[account]
	i := 0
	for i < len(calls) && !calls[i].After(now.Add(-l.window)) {
		i++
	}
	calls = calls[i:]
	ok = len(calls) < l.limit
	if ok {
		calls = append(calls, now)
	}
	l.accounts[account] = calls
	return ok, l.limit - len(calls), calls[0].Add(l.window).Sub(now)
}

// throttle applies the limit of kind to r's account, sets the ratelimit-remaining and
// ratelimit-reset headers (seconds until the window frees a place), and answers 429
// with a Retry-After when r is over the limit. It reports whether it answered. Without a
// limit the headers have fixed values, as before limits existed.
func (s *Server) throttle(w http.ResponseWriter, r *http.Request, k kind) bool {
	l := s.otherLimit
	if k == kindCreate {
		l = s.createLimit
	}
	if l.limit <= 0 {
		w.Header().Set("ratelimit-remaining", "2999")
		w.Header().Set("ratelimit-reset", "60")
		return false
	}
	s.mu.Lock()
	ok, remaining, reset := l.take(account(r), time.Now())
	if !ok {
		s.countThrottled(k)
	}
	s.mu.Unlock()
	secs := strconv.Itoa(ceilSeconds(reset))
	w.Header().Set("ratelimit-remaining", strconv.Itoa(remaining))
	w.Header().Set("ratelimit-reset", secs)
	if !ok {
		throttled(w, secs)
	}
	return !ok
}

// account is the account that r's call counts against: its credential, whatever its
// scheme ("" when it has none).
func account(r *http.Request) string {
	_, token, _ := cutAuthorization(r)
	return token
}

// throttled writes Replicate's 429: a Retry-After of secs and its problem+json body.
func throttled(w http.ResponseWriter, secs string) {
	w.Header().Set("Retry-After", secs)
	problem(w, http.StatusTooManyRequests, "Request was throttled",
		"Request was throttled. Your rate limit resets in ~"+secs+"s.")
}
