package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// unreachable points DATABASE_URL at a port where nothing listens: a command that
// touched the database would fail.
var unreachable = map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?connect_timeout=1"}

func runArgs(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, getenv(vars), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRunUsageAndConfigErrors(t *testing.T) {
	t.Parallel()
	out, _, err := runArgs(t, nil)
	require.NoError(t, err)
	require.Contains(t, out, "Usage:")

	_, errOut, err := runArgs(t, nil, "frobnicate")
	require.ErrorContains(t, err, `unknown command "frobnicate"`)
	require.Equal(t, 2, exitCode(err))
	require.Contains(t, errOut, `"level":"ERROR"`)

	_, _, err = runArgs(t, map[string]string{"PHOTO_BATCH_SIZE": "five"}, "worker")
	require.ErrorContains(t, err, `PHOTO_BATCH_SIZE="five"`)
	require.Equal(t, 1, exitCode(err))

	// Not tuning: a rescue window shorter than the job timeout must be refused.
	_, _, err = runArgs(t, map[string]string{"JOB_TIMEOUT": "10m", "RESCUE_STUCK_JOBS_AFTER": "5m"}, "worker")
	require.ErrorContains(t, err, "RESCUE_STUCK_JOBS_AFTER 5m0s must exceed JOB_TIMEOUT 10m0s")

	_, _, err = runArgs(t, nil, "api")
	require.ErrorContains(t, err, "STRIPE_WEBHOOK_SECRET is required")

	_, _, err = runArgs(t, nil, "demo")
	require.ErrorIs(t, err, errUsage)
}

func TestHelpNeedsNoDatabaseAndNoSecret(t *testing.T) {
	t.Parallel()
	commands := [][]string{
		{}, {"migrate"}, {"api"}, {"worker"}, {"all"}, {"generation"}, {"generation", "show"},
		{"generation", "retry"}, {"generation", "cancel"}, {"generation", "list"}, {"queue"}, {"queue", "stats"},
		{"stripe-events"}, {"stripe-events", "list"}, {"stripe-events", "replay"},
		{"fake-replicate"}, {"demo"}, {"dev-token"}, {"version"},
	}
	for _, c := range commands {
		out, errOut, err := runArgs(t, unreachable, append(c, "--help")...)
		require.NoError(t, err, "photogen %v --help: %s", c, errOut)
		require.Contains(t, out, "Usage:", "photogen %v --help", c)
		require.Empty(t, errOut, "photogen %v --help", c)
	}
}

func TestUnknownFlagsAndArgumentsExit2(t *testing.T) {
	t.Parallel()
	for _, c := range [][]string{
		{"--frobnicate"}, {"api", "--frobnicate"}, {"generation", "show"}, {"generation", "show", "a", "b"},
		{"queue", "stats", "extra"}, {"migrate", "now"}, {"demo", "--timeout", "soon"},
		{"generation", "list", "--state", "stuck"}, {"generation", "list", "--older", "-1m"},
		{"generation", "list", "--older", "soon"}, {"generation", "list", "--limit", "0"}, {"generation", "list", "extra"},
		{"stripe-events", "list", "--outcome", "lost"}, {"stripe-events", "replay"}, {"stripe-events", "replay", "a", "b"},
		{"stripe-events"}, {"queue", "stats", "--jsn"},
	} {
		_, _, err := runArgs(t, unreachable, c...)
		require.Error(t, err, "photogen %v", c)
		require.Equal(t, 2, exitCode(err), "photogen %v: %v", c, err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, err := runArgs(t, unreachable, args...)
		require.NoError(t, err)
		require.Regexp(t, `^photogen \S+ \(revision \S+`, out)
	}
}

func TestEveryConfigurationErrorInOneJSONLine(t *testing.T) {
	t.Parallel()
	_, errOut, err := runArgs(t, map[string]string{
		"PHOTO_BATCH_SIZE": "five", "DATABASE_MAX_CONNS": "1", "LOG_LEVEL": "loud", "EVENTS_MAX_STREAMS": "-1",
	}, "api")
	require.Error(t, err)
	require.NotEqual(t, 0, exitCode(err))
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 1, errOut)
	var line struct {
		Level  string   `json:"level"`
		Msg    string   `json:"msg"`
		Errors []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &line))
	require.Equal(t, "ERROR", line.Level)
	require.Equal(t, "invalid configuration", line.Msg)
	all := strings.Join(line.Errors, "\n")
	for _, want := range []string{`PHOTO_BATCH_SIZE="five"`, "DATABASE_MAX_CONNS 1", `LOG_LEVEL="loud"`, "STRIPE_WEBHOOK_SECRET is required",
		"EVENTS_MAX_STREAMS -1: want at least 1"} {
		require.Contains(t, all, want)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(getenv(nil), usesDatabase|usesWorker)
	require.Error(t, err, "a worker needs a Replicate token and a photo name secret")
	vars := map[string]string{"REPLICATE_API_TOKEN": "r8_x", "PHOTO_NAME_SECRET": "0123456789abcdef"}
	_, err = loadConfig(getenv(vars), usesDatabase|usesWorker)
	require.ErrorIs(t, err, errPhotoBaseURL, "a worker does not serve photos: it cannot guess the api's URL")

	vars["PHOTO_BASE_URL"] = "http://api.internal:8080"
	c, err = loadConfig(getenv(vars), usesDatabase|usesWorker)
	require.NoError(t, err)
	require.Equal(t, 5, c.Worker.BatchSize)
	require.Equal(t, 30, c.API.TargetPhotos)
	require.Greater(t, c.Worker.RescueAfter, c.Worker.JobTimeout)
	require.Equal(t, "black-forest-labs/flux-schnell", c.Replicate.Model)
	require.Equal(t, "http://api.internal:8080", c.Photos.BaseURL)

	// The api, alone or in `all`, serves the local store on HTTP_ADDR: it derives the URL.
	delete(vars, "PHOTO_BASE_URL")
	vars["STRIPE_WEBHOOK_SECRET"] = "whsec_x"
	for _, u := range []uses{usesAPI, usesAPI | usesWorker} {
		c, err = loadConfig(getenv(vars), usesDatabase|u)
		require.NoError(t, err)
		require.Equal(t, "http://127.0.0.1:8080", c.Photos.BaseURL)
	}
}
