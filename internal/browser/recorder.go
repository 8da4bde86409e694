// This file records what went wrong in the page while a visit ran, from the tab's
// events: console errors, uncaught exceptions, failed requests and HTTP errors.

package browser

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
)

// recorder collects what went wrong in the page, from the tab's events in their order.
type recorder struct {
	allowed []string

	mu   sync.Mutex
	urls map[network.RequestID]string // each request's URL, for the failures that name only its id
	bad  []string
}

// on is the tab's listener: it runs in the tab's event loop, so it only records.
func (r *recorder) on(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.urls[ev.RequestID] = ev.Request.URL
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 && !r.isAllowed(ev.Response.URL) {
			r.bad = append(r.bad, fmt.Sprintf("HTTP error: %d from %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFailed:
		r.bad = append(r.bad, fmt.Sprintf("failed request: %s: %s", r.urls[ev.RequestID], ev.ErrorText))
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError {
			r.bad = append(r.bad, "console error: "+argsText(ev.Args))
		}
	case *cdpruntime.EventExceptionThrown:
		r.bad = append(r.bad, "page error: "+exceptionText(ev.ExceptionDetails))
	case *log.EventEntryAdded:
		// The browser's own console errors, such as "Failed to load resource".
		e := ev.Entry
		if e.Level == log.EntryLevelError && !(strings.HasPrefix(e.Text, "Failed to load resource") && r.isAllowed(e.URL)) {
			r.bad = append(r.bad, fmt.Sprintf("console error: %s (%s)", e.Text, e.URL))
		}
	}
}

// problems returns what was recorded so far.
func (r *recorder) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bad)
}

// isAllowed says whether an HTTP error from raw (a URL) was expected.
func (r *recorder) isAllowed(raw string) bool {
	path := raw
	if u, err := url.Parse(raw); err == nil {
		path = u.Path
	}
	return slices.Contains(r.allowed, path)
}

// argsText is a console call's arguments as text.
func argsText(args []*cdpruntime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var str string
		switch {
		case a.Type == cdpruntime.RemoteObjectTypeString && json.Unmarshal(a.Value, &str) == nil:
			parts = append(parts, str)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// exceptionText is an uncaught exception as text.
func exceptionText(d *cdpruntime.ExceptionDetails) string {
	if d == nil {
		return "unknown exception"
	}
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}
