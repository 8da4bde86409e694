package fakereplicate

// This file sends webhooks: which events a prediction asked for, the faults drawn for
// them, and their asynchronous, signed, retried delivery.

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Webhook events, as Replicate spells them in webhook_events_filter. The fake sends
// start and completed; output and logs are accepted and never sent (its models print
// nothing along the way).
const (
	eventStart     = "start"
	eventOutput    = "output"
	eventLogs      = "logs"
	eventCompleted = "completed"
)

const (
	maxDeliveries  = 32               // webhook POSTs under way at once; further ones wait for a place
	webhookTimeout = 10 * time.Second // a receiver slower than this fails the attempt
)

// newWebhookClient returns the client that sends webhooks: its own connections (no
// proxy: receivers are test servers), a timeout per attempt, and no redirect followed
// (a 3xx fails the attempt). wrap, when not nil, wraps its transport.
func newWebhookClient(wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	var rt http.RoundTripper = &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: maxDeliveries,
		IdleConnTimeout:     30 * time.Second,
	}
	if wrap != nil {
		rt = wrap(rt)
	}
	return &http.Client{
		Transport:     rt,
		Timeout:       webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hook is what a prediction asked to be told, and the faults drawn for its completed
// event.
type hook struct {
	url              string
	start, completed bool
	drop, duplicate  bool
}

// parseHook reads a create's webhook and webhook_events_filter: no filter means every
// event. It writes a 422 and returns false for a URL that is not absolute http(s) or an
// unknown event.
func parseHook(w http.ResponseWriter, webhook string, filter []string) (*hook, bool) {
	if webhook == "" {
		return nil, true
	}
	u, err := url.Parse(webhook)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		invalid(w, "webhook", "format", "Does not match format 'uri'")
		return nil, false
	}
	for _, e := range filter {
		if !slices.Contains([]string{eventStart, eventOutput, eventLogs, eventCompleted}, e) {
			invalid(w, "webhook_events_filter", "enum", "webhook_events_filter must be one of start, output, logs, completed")
			return nil, false
		}
	}
	return &hook{
		url:       webhook,
		start:     len(filter) == 0 || slices.Contains(filter, eventStart),
		completed: len(filter) == 0 || slices.Contains(filter, eventCompleted),
	}, true
}

// drawHookFaults draws whether p's completed event is dropped or duplicated. Callers
// hold s.mu.
func (s *Server) drawHookFaults(p *prediction) {
	if p.hook == nil || !p.hook.completed {
		return
	}
	if s.cfg.WebhookDropRate > 0 {
		p.hook.drop = s.rng.Float64() < s.cfg.WebhookDropRate
	}
	if s.cfg.WebhookDuplicateRate > 0 && !p.hook.drop {
		p.hook.duplicate = s.rng.Float64() < s.cfg.WebhookDuplicateRate
	}
}

// delivery is one copy of one event on its way to a receiver.
type delivery struct {
	url      string
	id       string // webhook-id: one per event, the same on every attempt and copy
	body     []byte // the prediction's JSON at the event
	attempts int
}

// emitStart sends p's start event, once and without retry, when p asked for it.
// Callers hold s.mu and have just started p.
func (s *Server) emitStart(p *prediction) {
	if p.hook == nil || !p.hook.start {
		return
	}
	s.send(delivery{url: p.hook.url, id: newMessageID(), body: p.renderJSON(), attempts: 1})
}

// emitCompleted sends p's completed event when p asked for it: dropped, once, or twice
// as drawn, each copy retried up to Config.WebhookAttempts times. Callers hold s.mu and
// have just given p its final status.
func (s *Server) emitCompleted(p *prediction) {
	if p.hook == nil || !p.hook.completed {
		return
	}
	if p.hook.drop {
		s.webhooks.Dropped++
		return
	}
	d := delivery{url: p.hook.url, id: newMessageID(), body: p.renderJSON(), attempts: s.cfg.WebhookAttempts}
	s.send(d)
	if p.hook.duplicate {
		s.webhooks.Duplicated++
		s.send(d)
	}
}

// send starts d's delivery in its own goroutine, unless the fake is closed. Callers hold
// s.mu, so Close cannot be waiting for the deliveries yet.
func (s *Server) send(d delivery) {
	if s.closed {
		return
	}
	s.deliveries.Add(1)
	go func() {
		defer s.deliveries.Done()
		s.deliver(d)
	}()
}

// deliver makes d's attempts until one is answered 2xx, the attempts are used up, or
// the fake is closed, waiting Config.WebhookBackoff before the first retry and twice as
// long before each next one.
func (s *Server) deliver(d delivery) {
	backoff := s.cfg.WebhookBackoff
	for attempt := 1; ; attempt++ {
		ok := s.attempt(d)
		if !ok && s.stopCtx.Err() != nil {
			return // closed: the attempt was abandoned, not failed
		}
		s.mu.Lock()
		s.webhooks.Attempts++
		switch {
		case ok:
			s.webhooks.Sent++
		case attempt >= d.attempts:
			s.webhooks.FailedAttempts++
			s.webhooks.GaveUp++
		default:
			s.webhooks.FailedAttempts++
		}
		s.mu.Unlock()
		if ok || attempt >= d.attempts {
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.stopCtx.Done():
			t.Stop()
			return
		}
		backoff *= 2
	}
}

// attempt POSTs d once, signed at this moment, and reports whether the receiver
// answered 2xx. It waits for one of maxDeliveries places first.
func (s *Server) attempt(d delivery) bool {
	select {
	case s.hookSlots <- struct{}{}:
		defer func() { <-s.hookSlots }()
	case <-s.stopCtx.Done():
		return false
	}
	req, err := http.NewRequestWithContext(s.stopCtx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false // cannot happen: the URL was checked at create
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "fakereplicate-webhooks")
	signHeaders(req.Header, s.webhookKey, d.id, time.Now(), d.body)
	resp, err := s.hooks.Do(req)
	if err != nil {
		return false // refused, reset or timed out: a failed attempt
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// renderJSON is p's JSON as a GET of it would answer now. Callers hold s.mu.
func (p *prediction) renderJSON() []byte {
	b, err := json.Marshal(p.render())
	if err != nil {
		panic("fakereplicate: render prediction: " + err.Error()) // its input came from JSON
	}
	return b
}

// newMessageID returns a Standard Webhooks message id: "msg_" and 26 random characters.
func newMessageID() string { return "msg_" + newID() }
