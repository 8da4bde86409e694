// This file holds what a provider call returns: the prediction as photogen needs it,
// and the provider's refusals, with how to tell a lasting one from a passing one.

package provider

import (
	"errors"
	"fmt"
	"time"
)

// Error is a refusal from the provider's API, with its HTTP status.
type Error struct {
	Status     int
	RetryAfter time.Duration // from a 429's Retry-After header, or zero
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("provider answered %d: %s", e.Status, e.Message)
}

// Temporary reports whether trying the same call later may succeed: throttling, the
// provider's own faults and request timeouts. Other 4xx (bad token, no credit, invalid
// input) need a person.
func (e *Error) Temporary() bool {
	return e.Status == 429 || e.Status == 408 || e.Status == 409 || e.Status >= 500
}

// RateLimited returns how long to wait when err is a provider 429.
func RateLimited(err error) (time.Duration, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.Status == 429 {
		if pe.RetryAfter <= 0 {
			return 10 * time.Second, true
		}
		return pe.RetryAfter, true
	}
	return 0, false
}

// Permanent reports whether err is a provider refusal that retrying will not cure.
func Permanent(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && !pe.Temporary()
}

// Throttled reports whether the provider refused the call for its rate limit (429).
func (e *Error) Throttled() bool { return e.Status == 429 }

// ErrUnreachable wraps a call that got no answer from the provider: a connection refused
// or reset, a timeout, a name that does not resolve, an answer cut short.
var ErrUnreachable = errors.New("provider unreachable")

// Unavailable reports whether err says the provider is down for now: its own fault
// (5xx), a request timeout (408), or no answer at all (ErrUnreachable). The same call
// may work later, so a generation waits for it (delayed) rather than failing.
func Unavailable(err error) bool {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Status >= 500 || pe.Status == 408
	}
	return errors.Is(err, ErrUnreachable)
}
