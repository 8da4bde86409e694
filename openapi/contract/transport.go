package contract

// This file holds Transport, which checks every exchange of an end-to-end test's http.Client.

import (
	"net/http"
	"strings"
)

// TB is the part of testing.TB that Transport uses; *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Transport returns an http.RoundTripper that sends each request through next
// (http.DefaultTransport when nil) and reports, with t.Errorf, every way the exchange differs
// from the document, so that a test's client checks the whole API as it goes:
//
//   - A response must be documented for its operation: status, headers and JSON body.
//   - A request the server accepted (2xx or 304) must be valid: parameters, security and body.
//     Requests the server refused (4xx) are a test's deliberate bad input and are not checked.
//   - A request to a path the document has no operation for, in the part of the URL space it
//     describes (see Describes), is reported unless the server answered 404 or 405.
//
// Requests elsewhere (the page, /photos/, /metrics, /admin/) pass unchecked. Event-stream
// bodies are passed on unread; check their events with ValidateEvent. The request body is
// buffered in memory. The transport is safe for concurrent use; errors from next are returned
// unchanged. Its CloseIdleConnections closes next's, so that http.Client.CloseIdleConnections
// still works through it.
func (v *Validator) Transport(next http.RoundTripper, t TB) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, rt: func(r *http.Request) (*http.Response, error) {
		if !v.Describes(r) {
			return next.RoundTrip(r)
		}
		check := r.Clone(r.Context())
		if err := bufferBody(check); err != nil {
			return nil, err
		}
		send := check.Clone(r.Context())
		rewind(send)
		resp, err := next.RoundTrip(send)
		if err != nil {
			return nil, err
		}
		rewind(check)
		v.check(t, check, resp)
		return resp, nil
	}}
}

func (v *Validator) check(t TB, r *http.Request, resp *http.Response) {
	t.Helper()
	if !v.documented(r) {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("openapi: %s %s answered %d, but the document has no such operation: document it, or answer 404/405",
				r.Method, r.URL.Path, resp.StatusCode)
		}
		return // else the test asked for what does not exist, and was told so
	}
	if err := v.ValidateResponse(r, resp); err != nil {
		t.Errorf("%v", err)
	}
	if resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified {
		if err := v.ValidateRequest(r); err != nil {
			t.Errorf("the server accepted a request the document calls invalid: %v", err)
		}
	}
}

// documented reports whether the document has an operation for r's method and path. A path
// template's {parameter} matches any one non-empty segment.
func (v *Validator) documented(r *http.Request) bool {
	got := strings.Split(r.URL.Path, "/")
	for tmpl, item := range v.model.Paths.PathItems.FromOldest() {
		want := strings.Split(tmpl, "/")
		if len(want) != len(got) {
			continue
		}
		match := true
		for i := range want {
			param := strings.HasPrefix(want[i], "{") && strings.HasSuffix(want[i], "}")
			if !(want[i] == got[i] || param && got[i] != "") {
				match = false
				break
			}
		}
		if match && item.GetOperations().GetOrZero(strings.ToLower(r.Method)) != nil {
			return true
		}
	}
	return false
}

// transport is what Transport returns: rt, and next's idle connections to close.
type transport struct {
	next http.RoundTripper
	rt   func(*http.Request) (*http.Response, error)
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) { return t.rt(r) }

// CloseIdleConnections closes the idle connections of the transport wrapped, when it has any.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
