package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunUsageAndConfigErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	require.NoError(t, run(ctx, nil, env(nil), &out, &errOut))
	require.Contains(t, out.String(), "usage: photogen")

	err := run(ctx, []string{"frobnicate"}, env(nil), &out, &errOut)
	require.ErrorContains(t, err, `unknown command "frobnicate"`)

	err = run(ctx, []string{"worker"}, env(map[string]string{"PHOTO_BATCH_SIZE": "five"}), &out, &errOut)
	require.ErrorContains(t, err, `PHOTO_BATCH_SIZE="five"`)

	err = run(ctx, []string{"worker"}, env(map[string]string{"JOB_TIMEOUT": "10m", "RESCUE_STUCK_JOBS_AFTER": "5m"}), &out, &errOut)
	require.ErrorContains(t, err, "must exceed the job timeout")

	err = run(ctx, []string{"api"}, env(nil), &out, &errOut)
	require.ErrorContains(t, err, "STRIPE_WEBHOOK_SECRET is required")

	err = run(ctx, []string{"demo"}, env(nil), &out, &errOut)
	require.ErrorIs(t, err, errUsage)
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(nil))
	require.NoError(t, err)
	require.Equal(t, 5, c.Worker.BatchSize)
	require.Equal(t, 30, c.API.TargetPhotos)
	require.Equal(t, c.Worker.JobTimeout+c.Worker.RescueAfter-c.Worker.JobTimeout, c.Worker.RescueAfter)
	require.Greater(t, c.Worker.RescueAfter, c.Worker.JobTimeout)
	require.Equal(t, "black-forest-labs/flux-schnell", c.Replicate.Model)
}
