package fakereplicate_test

import (
	"image/png"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

func TestCreateByModelRunsToSucceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 30 * time.Millisecond, Token: token})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt("num_outputs", 2))

	require.Equal(t, replicate.Starting, p.Status)
	require.Regexp(t, regexp.MustCompile(`^[a-z0-9]{26}$`), p.ID)
	require.Equal(t, "black-forest-labs/flux-schnell", p.Model)
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), p.Version)
	require.Equal(t, "a red fox in the snow", p.Input["prompt"])
	require.Equal(t, replicate.SourceAPI, p.Source)
	require.Nil(t, p.Output)
	require.Nil(t, p.Error)
	require.Nil(t, p.StartedAt)
	require.Nil(t, p.CompletedAt)
	get := e.url + "/v1/predictions/" + p.ID
	require.Equal(t, get, p.URLs["get"])
	require.Equal(t, get+"/cancel", p.URLs["cancel"])
	require.NotEmpty(t, p.URLs["web"])
	require.NotEmpty(t, p.URLs["stream"])
	created, err := time.Parse(time.RFC3339Nano, p.CreatedAt)
	require.NoError(t, err)
	require.Equal(t, 'Z', rune(p.CreatedAt[len(p.CreatedAt)-1]), "UTC")
	fields := raw(t, p)
	require.Equal(t, false, fields["data_removed"])
	require.Contains(t, fields, "output")
	require.Nil(t, fields["output"])

	done := e.waitFinal(t, p.ID)
	require.Equal(t, replicate.Succeeded, done.Status)
	require.Nil(t, done.Error)
	require.NotEmpty(t, *done.Logs)
	require.NotNil(t, done.StartedAt)
	require.NotNil(t, done.CompletedAt)
	started, err := time.Parse(time.RFC3339Nano, *done.StartedAt)
	require.NoError(t, err)
	completed, err := time.Parse(time.RFC3339Nano, *done.CompletedAt)
	require.NoError(t, err)
	require.False(t, started.Before(created))
	require.GreaterOrEqual(t, completed.Sub(created), 30*time.Millisecond, "the configured latency")
	require.NotNil(t, done.Metrics.PredictTime)
	require.NotNil(t, done.Metrics.TotalTime)
	require.GreaterOrEqual(t, *done.Metrics.TotalTime, *done.Metrics.PredictTime)

	urls, ok := done.Output.([]any)
	require.True(t, ok, "flux-schnell gives a list of URLs")
	require.Len(t, urls, 2, "num_outputs")
	require.NotEqual(t, urls[0], urls[1])
	for _, u := range urls {
		requirePNG(t, e, u.(string))
	}
	for _, path := range []string{"/files/" + p.ID + "/2.png", "/files/" + p.ID + "/x.png", "/files/unknown/0.png"} {
		resp, _ := e.do(t, http.MethodGet, path, "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	require.Equal(t, fakereplicate.Stats{Created: 1, Succeeded: 1, MaxInFlight: 1}, e.fake.Stats())
}

// requirePNG fetches url, without credentials, and requires a decodable 64x64 PNG.
func requirePNG(t *testing.T, e *env, url string) {
	t.Helper()
	resp, err := e.hc.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	img, err := png.Decode(resp.Body)
	require.NoError(t, err, "a real PNG")
	require.Equal(t, 64, img.Bounds().Dx())
	require.Equal(t, 64, img.Bounds().Dy())
}

func TestCreateByVersionAndDeployment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{})
	ctx := t.Context()
	tests := []struct {
		name, model, version string
		create               func() (*replicate.Prediction, error)
	}{
		{"bare version id", "", "abc123", func() (*replicate.Prediction, error) {
			return e.rc.CreatePrediction(ctx, "abc123", prompt(), nil, false)
		}},
		{"owner/name:version", "acme/flux-lora", "v1", func() (*replicate.Prediction, error) {
			return e.rc.CreatePrediction(ctx, "acme/flux-lora:v1", prompt(), nil, false)
		}},
		{"deployment", "acme/flux-prod", "", func() (*replicate.Prediction, error) {
			return e.rc.CreatePredictionWithDeployment(ctx, "acme", "flux-prod", prompt(), nil, false)
		}},
	}
	for _, tt := range tests {
		p, err := tt.create()
		require.NoError(t, err, tt.name)
		require.Equal(t, replicate.Starting, p.Status, tt.name)
		if tt.model != "" {
			require.Equal(t, tt.model, p.Model, tt.name)
		}
		if tt.version != "" {
			require.Equal(t, tt.version, p.Version, tt.name)
		}
		done := e.waitFinal(t, p.ID)
		require.Equal(t, replicate.Succeeded, done.Status, tt.name)
		require.Len(t, done.Output, 1, tt.name)
	}
	require.Equal(t, 3, e.fake.Stats().Succeeded)
}

func TestFluxProGivesOneURLString(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond})
	p := e.create(t, "black-forest-labs/flux-1.1-pro", prompt())
	url, ok := e.waitFinal(t, p.ID).Output.(string)
	require.True(t, ok, "flux-1.1-pro gives one URL string")
	requirePNG(t, e, url)
}

func TestPublicURLPrefixesURLsAndOutputs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{PublicURL: "https://fake.example/"})
	p := e.create(t, "black-forest-labs/flux-schnell", prompt())
	require.Equal(t, "https://fake.example/v1/predictions/"+p.ID, p.URLs["get"])
	done := e.waitFinal(t, p.ID)
	require.Equal(t, []any{"https://fake.example/files/" + p.ID + "/0.png"}, done.Output)
}
