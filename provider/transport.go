// This file translates replicate-go's errors into Error, and carries a throttled
// answer's Retry-After to the caller instead of letting the client sleep on it.

package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/replicate/replicate-go"
)

// translateReplicate turns an API error into *Error with the Retry-After the transport saw.
func translateReplicate(err error, hold *retryAfterHolder) error {
	var apiErr *replicate.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Detail
		if msg == "" {
			msg = apiErr.Title
		}
		return &Error{Status: apiErr.Status, RetryAfter: hold.d, Message: msg}
	}
	if errors.Is(err, context.Canceled) {
		return err // the caller gave up: nothing is known of the provider
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

type retryAfterKey struct{}

type preferWaitKey struct{}

// withPreferWait asks the transport to send "Prefer: wait=N" with the request.
func withPreferWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, preferWaitKey{}, d)
}

// retryAfterHolder receives the Retry-After of the one call whose context carries it.
type retryAfterHolder struct{ d time.Duration }

func withRetryAfter(ctx context.Context) (context.Context, *retryAfterHolder) {
	h := &retryAfterHolder{}
	return context.WithValue(ctx, retryAfterKey{}, h), h
}

// retryAfterTransport adds Prefer: wait to a create that asks for it, and hands a throttled or failed response's Retry-After to the caller
// and hides it from replicate-go, whose retry loop would otherwise sleep on it even when
// it makes no further attempt.
type retryAfterTransport struct{ next http.RoundTripper }

func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if d, ok := req.Context().Value(preferWaitKey{}).(time.Duration); ok && req.Method == http.MethodPost {
		// replicate-go sets no per-call headers; a RoundTripper must not change the
		// caller's request, so this one is a copy.
		req = req.Clone(req.Context())
		req.Header.Set("Prefer", "wait="+strconv.Itoa(int(d/time.Second)))
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if h, ok := req.Context().Value(retryAfterKey{}).(*retryAfterHolder); ok {
			if secs, perr := strconv.Atoi(v); perr == nil {
				h.d = time.Duration(secs) * time.Second
			} else if at, perr := http.ParseTime(v); perr == nil {
				h.d = time.Until(at)
			}
		}
		resp.Header.Del("Retry-After")
	}
	return resp, nil
}
