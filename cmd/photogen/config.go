// This file is the commands' configuration: what they read (the variables are bound in
// env.go), the defaults of the command's own settings (each package's WithDefaults has
// its own), and the validation of what the command will use, every error at once.

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"photogen/api"
	"photogen/photos"
	"photogen/provider"
	"photogen/tracing"
	"photogen/usage"
	"photogen/worker"
)

// config is everything the commands read from the environment.
type config struct {
	DatabaseURL    string
	MaxConns       int32 // connections in this process's pool; default by role (poolSize)
	HTTPAddr       string
	MaxConnections int    // connections open at once on HTTPAddr
	MetricsAddr    string // the api's /metrics listener (api, all)
	WorkerAddr     string // the worker's health and metrics listener
	WebhookSecret  string // checks Replicate's webhooks; unset, fetched from Replicate
	Dev            bool   // print the banner with the development secret
	LogLevel       slog.Level
	API            api.Config
	Worker         worker.Config
	Replicate      provider.ReplicateConfig
	Photos         photos.Config
	Limits         usage.Limits
	PredictionCost float64 // the estimated price of one prediction; -1: unset
	Tracing        tracing.Config
}

// Connections in one process's pool, by what it runs, unless DATABASE_MAX_CONNS says
// otherwise. With Replicate's webhooks (REPLICATE_WEBHOOK_URL), 1 api and 10 workers hold
// (10+1) + 10*(6+2) = 91 of PostgreSQL's default max_connections of 100, each process
// counted with its LISTEN connections outside the pool (the api's live updates; a
// worker's wake-ups and River's own, which River detaches from the pool), which leaves
// the 3 reserved for superusers and 6 for an operator command or a migration. Without webhooks each
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
	if c.Limits == nil {
		c.Limits, _ = usage.ParseLimits(usage.DefaultLimits) // the defaults parse
	}
	c.Worker.Webhooks = c.Replicate.WebhookURL != ""
	c.API = c.API.WithDefaults()
	c.Worker = c.Worker.WithDefaults()
	c.Replicate = c.Replicate.WithDefaults()
	c.Photos = c.Photos.WithDefaults()
	if c.MaxConns == 0 {
		c.MaxConns = c.poolSize(u)
	}
	if c.Photos.BaseURL == "" && c.Photos.S3Bucket == "" && u.has(usesAPI) {
		// The api (alone or in `all`) serves the local store itself, on HTTP_ADDR.
		c.Photos.BaseURL = baseURL(c.HTTPAddr)
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
	c := config{PredictionCost: -1}
	errs := c.read(getenv)
	c = c.withDefaults(u)
	errs = append(errs, c.validate(u, getenv)...)
	if len(errs) > 0 {
		return c, &configError{errs: errs}
	}
	return c, nil
}

// validate checks what u uses, each package its own fields, and names the variables.
func (c config) validate(u uses, getenv func(string) string) []error {
	env := c.envOf(getenv)
	var errs []error
	check := func(section string, err error) { errs = append(errs, c.named(section, err, env)...) }
	if c.MaxConnections < 1 {
		check("", fmt.Errorf("MaxConnections %d: want at least 1", c.MaxConnections))
	}
	if c.MaxConns < 2 {
		check("", fmt.Errorf("MaxConns %d: want at least 2", c.MaxConns))
	}
	if u.has(usesAPI) {
		check("API", c.API.Validate())
	}
	if u.has(usesWorker) && (c.Replicate.Token != "" || !u.has(usesAPI)) {
		// Only `all` may run without a token: it then starts a fake Replicate.
		check("Replicate", c.Replicate.Validate())
	}
	if u.has(usesWorker) {
		check("Worker", c.Worker.Validate())
	}
	if u.has(usesAPI) || u.has(usesWorker) {
		check("Photos", c.Photos.Validate())
		check("Tracing", c.Tracing.Validate())
	}
	if u.has(usesWorker) && !u.has(usesAPI) && c.Photos.S3Bucket == "" && c.Photos.BaseURL == "" {
		errs = append(errs, errPhotoBaseURL)
	}
	return errs
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

// messages is one message per error found, joined ones included.
func (e *configError) messages() []string {
	var out []string
	for _, err := range e.errs {
		out = append(out, flatten(err)...)
	}
	return out
}
