package fakereplicate

// This file holds the fake's configuration and its defaults.

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultLatency and DefaultJitter are flux-schnell's figures (median 0.72 s end to end,
// p90 0.95 s): the command-line defaults of `photogen fake-replicate` and `make run`.
// A zero Config.Latency means zero, not DefaultLatency.
const (
	DefaultLatency = 700 * time.Millisecond
	DefaultJitter  = 300 * time.Millisecond
)

// DefaultFailMessage is the error of a prediction failed by Config.FailRate when
// Config.FailMessage is empty: flux's safety-filter text, word for word.
const DefaultFailMessage = "All generated images contained NSFW content. Try running it again with a different prompt."

// DefaultWebhookSecret is the signing secret of webhook deliveries when
// Config.WebhookSecret is empty, and what GET /v1/webhooks/default/secret answers then.
// It has Replicate's shape: "whsec_" and the standard base64 of the HMAC key.
const DefaultWebhookSecret = "whsec_cGhvdG9nZW4gZmFrZSByZXBsaWNhdGUgd2ViaG9va3M="

// Defaults of the webhook retries and of the rate-limit window.
const (
	DefaultWebhookAttempts = 4           // a completed event is tried once and retried three times
	DefaultWebhookBackoff  = time.Second // wait before the first retry; each next one waits twice as long
	DefaultRateLimitWindow = time.Minute // the window that the per-minute limits count over
)

// Config sets the fake's latency, credentials, limits and faults. The zero value answers
// at once, accepts any caller, limits nothing and injects no fault. Rates are
// probabilities: a rate of 0 or less never fires, a rate of 1 or more always does.
//
// Latency: a prediction ends Latency plus a uniform random draw from [0, Jitter) after
// it is created, and turns processing after a third of that. So Latency alone is a fixed
// latency, and Latency a with Jitter b-a is uniform in [a, b): Latency 500ms and Jitter
// 1s give 0.5 s to 1.5 s.
type Config struct {
	Latency   time.Duration // fixed time from create to the final status; zero means zero
	Jitter    time.Duration // extra uniform random [0, Jitter) added per prediction
	Seed      int64         // seeds every latency and fault draw, so a sequence of calls repeats
	Token     string        // when set, API calls must carry "Bearer <Token>" or "Token <Token>", else 401
	PublicURL string        // base of output files and urls; default "http://" + the request's Host

	RateLimitRate   float64       // share of creates answered 429 with a Retry-After header, at random
	RetryAfter      time.Duration // Retry-After of those 429s in whole seconds, rounded up; default and minimum 1s
	ServerErrorRate float64       // share of API calls answered 500 or 503, creating or changing nothing
	FailRate        float64       // share of created predictions that end failed with FailMessage
	FailMessage     string        // default DefaultFailMessage
	HangRate        float64       // share of created predictions that stay processing until canceled
	OutputTTL       time.Duration // when >0, a prediction's output is removed this long after it ends
	BadOutputRate   float64       // share of succeeded predictions whose output file is an HTML page labelled image/png
	MissingFileRate float64       // share of succeeded predictions whose output URL answers 404
	// LogsBytes, when >0, pads a finished prediction's logs to at least this many bytes (the
	// progress line repeated), so its completed webhook and its GET answers are that much
	// bigger: Replicate posts the whole prediction, logs included.
	LogsBytes int

	// Replicate's per-account limits (600 and 3000 a minute): at most CreateLimitPerMinute
	// creates and OtherLimitPerMinute other API calls (get, list, cancel, webhook secret)
	// per token in any sliding RateLimitWindow. A call over the limit is answered 429 with
	// a Retry-After of the seconds until the window frees a place. Zero means unlimited.
	CreateLimitPerMinute int
	OtherLimitPerMinute  int
	RateLimitWindow      time.Duration // default DefaultRateLimitWindow; tests shorten it

	// Webhooks: a create carrying "webhook" gets the prediction's JSON POSTed there when it
	// starts (event "start") and when it ends (event "completed"), as its
	// webhook_events_filter asks (no filter: every event), signed the Standard Webhooks way.
	WebhookSecret        string        // signing secret, "whsec_" + base64 key; default DefaultWebhookSecret
	WebhookDropRate      float64       // share of completed events never delivered
	WebhookDuplicateRate float64       // share of completed events delivered twice, with the same webhook-id
	WebhookAttempts      int           // attempts at a completed event before giving up; default DefaultWebhookAttempts
	WebhookBackoff       time.Duration // wait before the first retry, doubled for each next; default DefaultWebhookBackoff
	// WebhookTransport, when set, wraps the transport webhooks are sent through (the
	// end-to-end tests check each delivery and its answer against the api's OpenAPI document).
	WebhookTransport func(http.RoundTripper) http.RoundTripper
}

// withDefaults returns c with its empty fields filled in.
func (c Config) withDefaults() Config {
	if c.FailMessage == "" {
		c.FailMessage = DefaultFailMessage
	}
	if c.Latency < 0 {
		c.Latency = 0
	}
	if c.RateLimitWindow <= 0 {
		c.RateLimitWindow = DefaultRateLimitWindow
	}
	if c.WebhookSecret == "" {
		c.WebhookSecret = DefaultWebhookSecret
	}
	if c.WebhookAttempts <= 0 {
		c.WebhookAttempts = DefaultWebhookAttempts
	}
	if c.WebhookBackoff <= 0 {
		c.WebhookBackoff = DefaultWebhookBackoff
	}
	return c
}

// Validate reports whether c can configure a fake: today, whether a WebhookSecret that is
// set has Replicate's shape, "whsec_" followed by standard base64.
func (c Config) Validate() error {
	if c.WebhookSecret == "" {
		return nil
	}
	if _, err := webhookKey(c.WebhookSecret); err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	return nil
}

// webhookKey returns the HMAC key of a "whsec_" secret: its base64 part, decoded.
func webhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok || b64 == "" {
		return nil, fmt.Errorf("%q does not start with whsec_ followed by a key", secret)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("key after whsec_ is not standard base64: %w", err)
	}
	return key, nil
}

// retryAfterSeconds is the Retry-After of a 429: RetryAfter rounded up to whole seconds,
// at least one.
func (c Config) retryAfterSeconds() int {
	return ceilSeconds(c.RetryAfter)
}

// ceilSeconds rounds d up to whole seconds, at least one: the unit of Retry-After.
func ceilSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
