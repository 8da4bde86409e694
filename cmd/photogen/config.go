// This file reads the environment into each package's Config. It writes no default of
// its own for a package setting (each package's WithDefaults does), collects every
// error at once, and validates only what the command will use.

package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"photogen/api"
	"photogen/photos"
	"photogen/provider"
	"photogen/tracing"
	"photogen/usage"
	"photogen/worker"
)

// config is everything the commands read from the environment.
type config struct {
	DatabaseURL    string     // DATABASE_URL
	MaxConns       int32      // DATABASE_MAX_CONNS
	HTTPAddr       string     // HTTP_ADDR: the api's listener
	MaxConnections int        // HTTP_MAX_CONNECTIONS: connections open at once on HTTP_ADDR
	MetricsAddr    string     // METRICS_ADDR: the api's /metrics listener (api, all)
	WorkerAddr     string     // WORKER_ADDR: the worker's health and metrics listener
	WebhookSecret  string     // REPLICATE_WEBHOOK_SECRET: checks Replicate's webhooks; unset, fetched from Replicate
	Dev            bool       // PHOTOGEN_DEV=1: print the banner with the development secret
	LogLevel       slog.Level // LOG_LEVEL
	API            api.Config
	Worker         worker.Config
	Replicate      provider.ReplicateConfig
	Photos         photos.Config
	Limits         usage.Limits // USAGE_LIMITS
	PredictionCost float64      // PREDICTION_COST_USD: the estimated price of one prediction
	Tracing        tracing.Config
}

// Connections in one process's pool, by what it runs, unless DATABASE_MAX_CONNS says
// otherwise. With Replicate's webhooks (REPLICATE_WEBHOOK_URL), 1 api and 10 workers hold
// (10+1) + 10*(6+1) = 81 of PostgreSQL's default max_connections of 100, each process
// counted with its LISTEN connection outside the pool (the api's live updates, the
// worker's wake-ups; River's own LISTEN is one of the pool's), which leaves the 3
// reserved for superusers and 16 for operators and migrations. Without webhooks each
// create in flight holds a connection for up to REPLICATE_SYNC_WAIT (it holds the
// creation lock in its transaction): a worker's pool is then 20 (the creates beyond it
// wait for a connection). See docs/operations.md, "Sizing connections".
const (
	apiMaxConns               = 10
	workerMaxConns            = 6  // with webhooks
	workerSyncCreatesMaxConns = 20 // without webhooks
	cliMaxConns               = 4  // migrate and the operator commands
)

// withDefaults sets the defaults of the command's own settings; u says what it runs.
func (c config) withDefaults(u uses) config {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "postgres://postgres@127.0.0.1:5432/photogen?sslmode=disable"
	}
	if c.MaxConns == 0 {
		c.MaxConns = c.poolSize(u)
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	if c.WorkerAddr == "" {
		c.WorkerAddr = ":9090"
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = "127.0.0.1:9091"
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 1024
	}
	return c
}

// poolSize is the default size of the pool of a process that runs u.
func (c config) poolSize(u uses) int32 {
	var n int
	if u.has(usesAPI) {
		n += apiMaxConns
	}
	if u.has(usesWorker) {
		n += workerMaxConns
		if !c.Worker.Webhooks {
			n += workerSyncCreatesMaxConns - workerMaxConns
		}
	}
	if n == 0 {
		return cliMaxConns
	}
	return int32(n)
}

// uses is what a command uses of the configuration, and so validates; for the serving
// commands, also what the process runs.
type uses int

const (
	usesDatabase uses = 1 << iota
	usesAPI
	usesWorker
)

// has reports whether u includes every bit of v.
func (u uses) has(v uses) bool { return u&v == v }

// mode is the serving command that runs u: api, worker or all.
func (u uses) mode() string {
	switch {
	case u.has(usesAPI | usesWorker):
		return "all"
	case u.has(usesAPI):
		return "api"
	}
	return "worker"
}

// loadConfig reads the environment and validates what the command uses. Every error is
// returned at once, as a *configError.
func loadConfig(getenv func(string) string, u uses) (config, error) {
	r := envReader{get: getenv}
	c := config{
		DatabaseURL:    getenv("DATABASE_URL"),
		MaxConns:       int32(r.int("DATABASE_MAX_CONNS")),
		HTTPAddr:       getenv("HTTP_ADDR"),
		MetricsAddr:    getenv("METRICS_ADDR"),
		MaxConnections: r.int("HTTP_MAX_CONNECTIONS"),
		WorkerAddr:     getenv("WORKER_ADDR"),
		WebhookSecret:  getenv("REPLICATE_WEBHOOK_SECRET"),
		Dev:            getenv("PHOTOGEN_DEV") == "1",
		API: api.Config{
			WebhookSecret:    getenv("STRIPE_WEBHOOK_SECRET"),
			WebhookTolerance: r.duration("STRIPE_WEBHOOK_TOLERANCE"),
			TargetPhotos:     r.int("PHOTOS_PER_SUBSCRIBER"),
			JWTSecret:        getenv("AUTH_JWT_SECRET"),
			JWTAudience:      getenv("AUTH_JWT_AUDIENCE"),
			JWTIssuer:        getenv("AUTH_JWT_ISSUER"),
			JWTMaxLifetime:   r.duration("AUTH_JWT_MAX_LIFETIME"),
			EventsMaxStreams: r.int("EVENTS_MAX_STREAMS"),
			OperatorToken:    getenv("OPERATOR_TOKEN"),
		}.WithDefaults(),
		Worker: worker.Config{
			BatchSize:         r.int("PHOTO_BATCH_SIZE"),
			PredictionBudget:  r.int("PREDICTION_BUDGET"),
			Concurrency:       r.int("WORKER_CONCURRENCY"),
			Webhooks:          getenv("REPLICATE_WEBHOOK_URL") != "",
			CheckAfter:        r.duration("REPLICATE_WEBHOOK_CHECK_AFTER"),
			PollInterval:      r.duration("REPLICATE_POLL_INTERVAL"),
			ReadsPerMinute:    r.int("REPLICATE_READS_PER_MINUTE"),
			FetchCooldown:     r.duration("RIVER_FETCH_COOLDOWN"),
			PredictionTimeout: r.duration("PREDICTION_TIMEOUT"),
			JobTimeout:        r.duration("JOB_TIMEOUT"),
			RescueAfter:       r.duration("RESCUE_STUCK_JOBS_AFTER"),
			FetchPollInterval: r.duration("RIVER_FETCH_POLL_INTERVAL"),
			PerMinute:         r.int("PREDICTIONS_PER_MINUTE"),
			SoftStop:          r.duration("SHUTDOWN_SOFT_TIMEOUT"),
		}.WithDefaults(),
		Replicate: provider.ReplicateConfig{
			Token:      getenv("REPLICATE_API_TOKEN"),
			BaseURL:    getenv("REPLICATE_BASE_URL"),
			Model:      getenv("REPLICATE_MODEL"),
			SeedInput:  getenv("REPLICATE_SEED_INPUT"),
			WebhookURL: getenv("REPLICATE_WEBHOOK_URL"),
			SyncWait:   r.duration("REPLICATE_SYNC_WAIT"),
		}.WithDefaults(),
		Photos: photos.Config{
			Dir:        getenv("STORAGE_DIR"),
			BaseURL:    getenv("PHOTO_BASE_URL"),
			NameSecret: getenv("PHOTO_NAME_SECRET"),
			MaxBytes:   int64(r.int("MAX_PHOTO_BYTES")),
			S3Bucket:   getenv("S3_BUCKET"),
			S3Endpoint: getenv("S3_ENDPOINT"),
			S3Region:   getenv("S3_REGION"),
			S3Path:     getenv("S3_PATH_STYLE") == "true" || getenv("S3_PATH_STYLE") == "1",
		}.WithDefaults(),
		PredictionCost: r.float("PREDICTION_COST_USD", -1),
		Tracing:        tracing.ConfigFromEnv(getenv),
	}
	c = c.withDefaults(u)
	var err error
	if c.Photos.BaseURL == "" && c.Photos.S3Bucket == "" && u&usesAPI != 0 {
		// The api (alone or in `all`) serves the local store itself, on HTTP_ADDR.
		c.Photos.BaseURL = baseURL(c.HTTPAddr)
	}
	if c.API.RateLimits, err = api.ParseRateLimits(getenv("RATE_LIMITS")); err != nil {
		r.fail(fmt.Errorf("RATE_LIMITS: %w", err))
	}
	for _, p := range strings.Split(getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.API.TrustedProxies = append(c.API.TrustedProxies, p)
		}
	}
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.API.CORSOrigins = append(c.API.CORSOrigins, o)
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(getenv("LOG_LEVEL"))); err != nil && getenv("LOG_LEVEL") != "" {
		r.fail(fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", getenv("LOG_LEVEL")))
	}
	if c.Limits, err = usage.ParseLimits(cmp.Or(getenv("USAGE_LIMITS"), usage.DefaultLimits)); err != nil {
		r.fail(fmt.Errorf("USAGE_LIMITS: %w", err))
	}
	if c.MaxConnections < 1 {
		r.fail(fmt.Errorf("HTTP_MAX_CONNECTIONS %d: want at least 1", c.MaxConnections))
	}
	if c.MaxConns < 2 {
		r.fail(fmt.Errorf("DATABASE_MAX_CONNS %d: want at least 2", c.MaxConns))
	}
	if u&usesAPI != 0 {
		r.fail(c.API.Validate())
	}
	if u&usesWorker != 0 {
		r.fail(c.Worker.Validate())
		if c.Replicate.Token != "" || u&usesAPI == 0 {
			// Only `all` may run without a token: it then starts a fake Replicate.
			r.fail(c.Replicate.Validate())
		}
	}
	if u&(usesAPI|usesWorker) != 0 {
		r.fail(c.Photos.Validate())
		r.fail(c.Tracing.Validate())
	}
	if u&usesWorker != 0 && u&usesAPI == 0 && c.Photos.S3Bucket == "" && c.Photos.BaseURL == "" {
		r.fail(errPhotoBaseURL)
	}
	if len(r.errs) > 0 {
		return c, &configError{errs: r.errs}
	}
	return c, nil
}

// errPhotoBaseURL refuses a worker that would write photo URLs on its own HTTP_ADDR,
// where nothing serves them.
var errPhotoBaseURL = errors.New("PHOTO_BASE_URL is required for a worker with the local photo store: " +
	"set it to the api's public URL (the api serves the photos at /photos/); a worker does not listen " +
	"on HTTP_ADDR, so it cannot derive it")

// configError is every configuration error found at once.
type configError struct{ errs []error }

func (e *configError) Error() string { return strings.Join(e.messages(), "; ") }

// Unwrap gives the errors found, for errors.Is.
func (e *configError) Unwrap() []error { return e.errs }

// messages flattens the errors, joined ones included, into one message each.
func (e *configError) messages() []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		out = append(out, err.Error())
	}
	for _, err := range e.errs {
		walk(err)
	}
	return out
}

// envReader parses variables, collecting an error for each one it cannot read. An unset
// variable reads as zero, which each package's WithDefaults replaces by its default.
type envReader struct {
	get  func(string) string
	errs []error
}

func (e *envReader) fail(err error) {
	if err != nil {
		e.errs = append(e.errs, err)
	}
}

func (e *envReader) int(name string) int {
	v := e.get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(fmt.Errorf("%s=%q: want a whole number", name, v))
	}
	return n
}

func (e *envReader) duration(name string) time.Duration {
	v := e.get(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(fmt.Errorf("%s=%q: want a duration such as 500ms or 2m", name, v))
	}
	return d
}

// float reads a non-negative number, or unset when the variable is empty.
func (e *envReader) float(name string, unset float64) float64 {
	v := e.get(name)
	if v == "" {
		return unset
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		e.fail(fmt.Errorf("%s=%q: want a price in dollars such as 0.003", name, v))
		return unset
	}
	return f
}
