// This file is the one table of environment variables: each bound to the field of config
// it sets, read and parsed by the field's type. Packages validate their fields and name
// them in their errors; the table turns those names back into the variables', so that a
// user reads what to change.

package main

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"photogen/api"
	"photogen/usage"
)

// binding ties an environment variable to the field of config it sets. env may list
// alternatives, space-separated: the first one set is read. The field is parsed by its
// type (string, whole numbers, bool, time.Duration, comma-separated []string) unless
// parse is given.
type binding struct {
	env   string
	field any                  // a pointer to the field
	parse func(v string) error // sets the field from a non-empty v
}

// bindings is the table: every variable photogen's serving and operator commands read.
func (c *config) bindings() []binding {
	return []binding{
		{env: "DATABASE_URL", field: &c.DatabaseURL},
		{env: "DATABASE_MAX_CONNS", field: &c.MaxConns},
		{env: "HTTP_ADDR", field: &c.HTTPAddr},
		{env: "HTTP_MAX_CONNECTIONS", field: &c.MaxConnections},
		{env: "METRICS_ADDR", field: &c.MetricsAddr},
		{env: "WORKER_ADDR", field: &c.WorkerAddr},
		{env: "REPLICATE_WEBHOOK_SECRET", field: &c.WebhookSecret},
		{env: "PHOTOGEN_DEV", field: &c.Dev},
		{env: "LOG_LEVEL", field: &c.LogLevel, parse: func(v string) error {
			if c.LogLevel.UnmarshalText([]byte(v)) != nil {
				return errors.New("want debug, info, warn or error")
			}
			return nil
		}},

		{env: "STRIPE_WEBHOOK_SECRET", field: &c.API.WebhookSecret},
		{env: "STRIPE_WEBHOOK_TOLERANCE", field: &c.API.WebhookTolerance},
		{env: "PHOTOS_PER_SUBSCRIBER", field: &c.API.TargetPhotos},
		{env: "AUTH_JWT_SECRET", field: &c.API.JWTSecret},
		{env: "AUTH_JWT_AUDIENCE", field: &c.API.JWTAudience},
		{env: "AUTH_JWT_ISSUER", field: &c.API.JWTIssuer},
		{env: "AUTH_JWT_MAX_LIFETIME", field: &c.API.JWTMaxLifetime},
		{env: "RATE_LIMITS", field: &c.API.RateLimits, parse: func(v string) (err error) {
			c.API.RateLimits, err = api.ParseRateLimits(v)
			return err
		}},
		{env: "TRUSTED_PROXIES", field: &c.API.TrustedProxies},
		{env: "CORS_ALLOWED_ORIGINS", field: &c.API.CORSOrigins},
		{env: "EVENTS_MAX_STREAMS", field: &c.API.EventsMaxStreams},
		{env: "STATUS_CACHE_SIZE", field: &c.API.StatusCacheSize},
		{env: "OPERATOR_TOKEN", field: &c.API.OperatorToken},

		{env: "PHOTO_BATCH_SIZE", field: &c.Worker.BatchSize},
		{env: "PREDICTION_BUDGET", field: &c.Worker.PredictionBudget},
		{env: "WORKER_CONCURRENCY", field: &c.Worker.Concurrency},
		{env: "REPLICATE_WEBHOOK_CHECK_AFTER", field: &c.Worker.CheckAfter},
		{env: "REPLICATE_POLL_INTERVAL", field: &c.Worker.PollInterval},
		{env: "REPLICATE_READS_PER_MINUTE", field: &c.Worker.ReadsPerMinute},
		{env: "RIVER_FETCH_COOLDOWN", field: &c.Worker.FetchCooldown},
		{env: "PREDICTION_TIMEOUT", field: &c.Worker.PredictionTimeout},
		{env: "JOB_TIMEOUT", field: &c.Worker.JobTimeout},
		{env: "RESCUE_STUCK_JOBS_AFTER", field: &c.Worker.RescueAfter},
		{env: "RIVER_FETCH_POLL_INTERVAL", field: &c.Worker.FetchPollInterval},
		{env: "PREDICTIONS_PER_MINUTE", field: &c.Worker.PerMinute},
		{env: "SHUTDOWN_SOFT_TIMEOUT", field: &c.Worker.SoftStop},
		{env: "OUTAGE_LIMIT", field: &c.Worker.OutageLimit},

		{env: "REPLICATE_API_TOKEN", field: &c.Replicate.Token},
		{env: "REPLICATE_BASE_URL", field: &c.Replicate.BaseURL},
		{env: "REPLICATE_MODEL", field: &c.Replicate.Model},
		{env: "REPLICATE_SEED_INPUT", field: &c.Replicate.SeedInput},
		{env: "REPLICATE_WEBHOOK_URL", field: &c.Replicate.WebhookURL},
		{env: "REPLICATE_SYNC_WAIT", field: &c.Replicate.SyncWait},

		{env: "STORAGE_DIR", field: &c.Photos.Dir},
		{env: "PHOTO_BASE_URL", field: &c.Photos.BaseURL},
		{env: "PHOTO_NAME_SECRET", field: &c.Photos.NameSecret},
		{env: "MAX_PHOTO_BYTES", field: &c.Photos.MaxBytes},
		{env: "S3_BUCKET", field: &c.Photos.S3Bucket},
		{env: "S3_ENDPOINT", field: &c.Photos.S3Endpoint},
		{env: "S3_REGION", field: &c.Photos.S3Region},
		{env: "S3_PATH_STYLE", field: &c.Photos.S3Path},

		{env: "USAGE_LIMITS", field: &c.Limits, parse: func(v string) (err error) {
			c.Limits, err = usage.ParseLimits(v)
			return err
		}},
		{env: "PREDICTION_COST_USD", field: &c.PredictionCost, parse: func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return errors.New("want a price in dollars such as 0.003")
			}
			c.PredictionCost = f
			return nil
		}},

		{env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_EXPORTER_OTLP_ENDPOINT", field: &c.Tracing.Endpoint},
		{env: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL OTEL_EXPORTER_OTLP_PROTOCOL", field: &c.Tracing.Protocol},
		{env: "OTEL_SDK_DISABLED", field: &c.Tracing.Disabled},
	}
}

// read sets every bound field from the environment, returning an error for each value
// that cannot be parsed. An unset variable leaves its field zero, which each package's
// WithDefaults replaces by its default.
func (c *config) read(getenv func(string) string) []error {
	var errs []error
	for _, b := range c.bindings() {
		name, v := lookup(getenv, b.env)
		if v == "" {
			continue
		}
		var err error
		if b.parse != nil {
			err = b.parse(v)
		} else {
			err = parseInto(b.field, v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	}
	return errs
}

// lookup returns the first of names (space-separated) that is set, and its value; none
// set, the first name and "".
func lookup(getenv func(string) string, names string) (string, string) {
	all := strings.Fields(names)
	for _, n := range all {
		if v := getenv(n); v != "" {
			return n, v
		}
	}
	return all[0], ""
}

// parseInto sets *field from v by the field's type.
func parseInto(field any, v string) error {
	switch f := field.(type) {
	case *string:
		*f = v
	case *bool:
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return errors.New("want true or false (or 1 or 0)")
		}
		*f = b
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("want a duration such as 500ms or 2m")
		}
		*f = d
	case *[]string:
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				*f = append(*f, s)
			}
		}
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("want a whole number")
		}
		rv := reflect.ValueOf(field).Elem()
		if rv.OverflowInt(n) {
			return errors.New("out of range")
		}
		rv.SetInt(n)
	}
	return nil
}

// envOf maps each bound field, by its path in config ("API.WebhookSecret"), to its
// variable: of alternatives, the one set, else the first.
func (c *config) envOf(getenv func(string) string) map[string]string {
	paths := map[fieldKey]string{}
	collectPaths(reflect.ValueOf(c).Elem(), "", paths)
	out := map[string]string{}
	for _, b := range c.bindings() {
		rv := reflect.ValueOf(b.field)
		out[paths[fieldKey{rv.Pointer(), rv.Type().Elem()}]], _ = lookup(getenv, b.env)
	}
	return out
}

// fieldKey tells a field from its struct's first field, which shares its address.
type fieldKey struct {
	addr uintptr
	typ  reflect.Type
}

func collectPaths(v reflect.Value, prefix string, paths map[fieldKey]string) {
	for i := range v.NumField() {
		f := v.Field(i)
		path := prefix + v.Type().Field(i).Name
		if !v.Type().Field(i).IsExported() {
			continue
		}
		paths[fieldKey{f.Addr().Pointer(), f.Type()}] = path
		if f.Kind() == reflect.Struct && f.Type().PkgPath() != "time" {
			collectPaths(f, path+".", paths)
		}
	}
}

var word = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)

// named rewrites the field names in the messages of err, a section's validation ("API",
// or "" for config's own fields), into their variables: "WebhookSecret is required"
// becomes "STRIPE_WEBHOOK_SECRET is required".
func (c *config) named(section string, err error, env map[string]string) []error {
	if err == nil {
		return nil
	}
	if section != "" {
		section += "."
	}
	var out []error
	for _, msg := range flatten(err) {
		out = append(out, errors.New(word.ReplaceAllStringFunc(msg, func(w string) string {
			if name, ok := env[section+w]; ok {
				return name
			}
			return w
		})))
	}
	return out
}

// flatten is the message of each error err joins (or err's own).
func flatten(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []string{err.Error()}
}
