package fakereplicate

// This file holds the fake's configuration and its defaults.

import "time"

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

// Config sets the fake's latency, credentials and faults. The zero value answers at
// once, accepts any caller and injects no fault. Rates are probabilities: a rate of 0 or
// less never fires, a rate of 1 or more always does.
type Config struct {
	Latency   time.Duration // fixed time from create to the final status; zero means zero
	Jitter    time.Duration // extra uniform random [0, Jitter) added per prediction
	Seed      int64         // seeds every latency and fault draw, so a sequence of calls repeats
	Token     string        // when set, API calls must carry "Bearer <Token>" or "Token <Token>", else 401
	PublicURL string        // base of output files and urls; default "http://" + the request's Host

	RateLimitRate   float64       // share of creates answered 429 with a Retry-After header
	RetryAfter      time.Duration // Retry-After of those 429s in whole seconds, rounded up; default and minimum 1s
	ServerErrorRate float64       // share of API calls answered 500 or 503, creating or changing nothing
	FailRate        float64       // share of created predictions that end failed with FailMessage
	FailMessage     string        // default DefaultFailMessage
	HangRate        float64       // share of created predictions that stay processing until canceled
	OutputTTL       time.Duration // when >0, a prediction's output is removed this long after it ends
	BadOutputRate   float64       // share of succeeded predictions whose output file is an HTML page labelled image/png
	MissingFileRate float64       // share of succeeded predictions whose output URL answers 404
}

// withDefaults returns c with its empty fields filled in.
func (c Config) withDefaults() Config {
	if c.FailMessage == "" {
		c.FailMessage = DefaultFailMessage
	}
	if c.Latency < 0 {
		c.Latency = 0
	}
	return c
}

// retryAfterSeconds is the Retry-After of a 429: RetryAfter rounded up to whole seconds,
// at least one.
func (c Config) retryAfterSeconds() int {
	secs := int((c.RetryAfter + time.Second - 1) / time.Second)
	return max(1, secs)
}
