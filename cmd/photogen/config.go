package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"photogen/api"
	"photogen/metrics"
	"photogen/worker"
)

// config is everything the serving commands read from the environment.
type config struct {
	DatabaseURL string
	MaxConns    int32
	HTTPAddr    string
	WorkerAddr  string // WORKER_ADDR: the worker's health and metrics listener
	OperatorTok string // OPERATOR_TOKEN: guards /admin/river/; unset, the admin routes do not exist
	Dev         bool   // PHOTOGEN_DEV=1: print the banner with the development secret
	API         api.Config
	Worker      worker.Config
	Replicate   worker.ReplicateConfig
	Photos      photosConfig
	// PredictionCost is PREDICTION_COST_USD, the estimated price of one prediction.
	PredictionCost float64
}

// loadConfig reads the environment, applies defaults and validates.
func loadConfig(getenv func(string) string) (config, error) {
	env := envReader{get: getenv}
	c := config{
		DatabaseURL: env.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/photogen?sslmode=disable"),
		MaxConns:    int32(env.int("DATABASE_MAX_CONNS", 20)),
		HTTPAddr:    env.str("HTTP_ADDR", ":8080"),
		WorkerAddr:  env.str("WORKER_ADDR", ":9090"),
		OperatorTok: getenv("OPERATOR_TOKEN"),
		Dev:         getenv("PHOTOGEN_DEV") == "1",
		API: api.Config{
			WebhookSecret:    getenv("STRIPE_WEBHOOK_SECRET"),
			WebhookTolerance: env.duration("STRIPE_WEBHOOK_TOLERANCE", 5*time.Minute),
			TargetPhotos:     env.int("PHOTOS_PER_SUBSCRIBER", 30),
			JWTSecret:        getenv("AUTH_JWT_SECRET"),
		},
		Worker: worker.Config{
			BatchSize:         env.int("PHOTO_BATCH_SIZE", 5),
			PredictionBudget:  env.int("PREDICTION_BUDGET", 0),
			Concurrency:       env.int("WORKER_CONCURRENCY", 10),
			PollInterval:      env.duration("REPLICATE_POLL_INTERVAL", time.Second),
			PredictionTimeout: env.duration("PREDICTION_TIMEOUT", 5*time.Minute),
			JobTimeout:        env.duration("JOB_TIMEOUT", 10*time.Minute),
			RescueAfter:       env.duration("RESCUE_STUCK_JOBS_AFTER", 0),
			FetchPollInterval: env.duration("RIVER_FETCH_POLL_INTERVAL", time.Second),
			PerMinute:         env.int("PREDICTIONS_PER_MINUTE", 600),
			SoftStop:          env.duration("SHUTDOWN_SOFT_TIMEOUT", 30*time.Second),
		}.WithDefaults(),
		Replicate: worker.ReplicateConfig{
			Token:     getenv("REPLICATE_API_TOKEN"),
			BaseURL:   env.str("REPLICATE_BASE_URL", worker.DefaultReplicateBaseURL),
			Model:     env.str("REPLICATE_MODEL", "black-forest-labs/flux-schnell"),
			SeedInput: env.str("REPLICATE_SEED_INPUT", "seed"),
		},
	}
	c.Photos = photosConfig{
		Dir:        env.str("STORAGE_DIR", "./data/photos"),
		BaseURL:    env.str("PHOTO_BASE_URL", ""),
		NameSecret: getenv("PHOTO_NAME_SECRET"),
		MaxBytes:   int64(env.int("MAX_PHOTO_BYTES", worker.DefaultMaxPhotoBytes)),
		S3Bucket:   getenv("S3_BUCKET"),
		S3Endpoint: getenv("S3_ENDPOINT"),
		S3Region:   getenv("S3_REGION"),
		S3Path:     getenv("S3_PATH_STYLE") == "true" || getenv("S3_PATH_STYLE") == "1",
	}
	if c.Photos.BaseURL == "" && c.Photos.S3Bucket == "" {
		c.Photos.BaseURL = defaultDemoURL(c.HTTPAddr)
	}
	c.PredictionCost = metrics.DefaultPredictionCostUSD
	if v := getenv("PREDICTION_COST_USD"); v != "" {
		cost, err := strconv.ParseFloat(v, 64)
		if err != nil || cost < 0 || math.IsInf(cost, 0) || math.IsNaN(cost) {
			return c, fmt.Errorf("PREDICTION_COST_USD=%q: want a price in dollars such as 0.003", v)
		}
		c.PredictionCost = cost
	}
	limits, err := api.ParseLimits(env.str("USAGE_LIMITS", api.DefaultLimits))
	if err != nil {
		return c, fmt.Errorf("USAGE_LIMITS: %w", err)
	}
	c.API.Limits = limits
	c.API = c.API.WithDefaults()
	if env.err != nil {
		return c, env.err
	}
	if err := c.Worker.Validate(); err != nil {
		return c, fmt.Errorf("worker configuration: %w", err)
	}
	if c.MaxConns < 2 {
		return c, fmt.Errorf("DATABASE_MAX_CONNS %d: want at least 2", c.MaxConns)
	}
	return c, nil
}

// envReader parses variables and keeps the first error, naming the variable.
type envReader struct {
	get func(string) string
	err error
}

func (e *envReader) str(name, def string) string {
	if v := e.get(name); v != "" {
		return v
	}
	return def
}

func (e *envReader) int(name string, def int) int {
	v := e.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s=%q: want a whole number", name, v)
	}
	return n
}

func (e *envReader) duration(name string, def time.Duration) time.Duration {
	v := e.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("%s=%q: want a duration such as 500ms or 2m", name, v)
	}
	return d
}
