package fakereplicate_test

import (
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// newClient returns the unchanged replicate-go client pointed at a fresh fake.
func newClient(t *testing.T, cfg fakereplicate.Config) (*replicate.Client, *fakereplicate.Server, string) {
	t.Helper()
	fake := fakereplicate.New(cfg)
	ts := httptest.NewServer(fake)
	t.Cleanup(func() { ts.Close(); fake.Close() })
	c, err := replicate.NewClient(replicate.WithToken("r8_test"), replicate.WithBaseURL(ts.URL+"/v1"),
		replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}))
	require.NoError(t, err)
	return c, fake, ts.URL
}

func waitFinal(t *testing.T, c *replicate.Client, id string) *replicate.Prediction {
	t.Helper()
	for range 400 {
		p, err := c.GetPrediction(context.Background(), id)
		require.NoError(t, err)
		if p.Status.Terminated() {
			return p
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("prediction %s never finished", id)
	return nil
}

func TestCreateByModelAndVersionUntilSucceeded(t *testing.T) {
	t.Parallel()
	c, fake, _ := newClient(t, fakereplicate.Config{Latency: 30 * time.Millisecond})
	ctx := context.Background()
	p, err := c.CreatePredictionWithModel(ctx, "black-forest-labs", "flux-schnell", replicate.PredictionInput{"prompt": "a cat"}, nil, false)
	require.NoError(t, err)
	require.Equal(t, replicate.Starting, p.Status)
	require.Len(t, p.ID, 26)
	require.Equal(t, "black-forest-labs/flux-schnell", p.Model)
	require.Nil(t, p.Output)

	done := waitFinal(t, c, p.ID)
	require.Equal(t, replicate.Succeeded, done.Status)
	require.NotNil(t, done.CompletedAt)
	urls, ok := done.Output.([]any)
	require.True(t, ok, "flux-schnell gives a list")
	require.Len(t, urls, 1)
	resp, err := http.Get(urls[0].(string))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	img, err := png.Decode(resp.Body)
	require.NoError(t, err, "a real PNG")
	require.Equal(t, 64, img.Bounds().Dx())

	v, err := c.CreatePrediction(ctx, "abc123", replicate.PredictionInput{"prompt": "x", "num_outputs": 2}, nil, false)
	require.NoError(t, err)
	require.Equal(t, "abc123", v.Version)
	require.Len(t, waitFinal(t, c, v.ID).Output, 2)

	pro, err := c.CreatePredictionWithModel(ctx, "black-forest-labs", "flux-1.1-pro", replicate.PredictionInput{"prompt": "x"}, nil, false)
	require.NoError(t, err)
	_, single := waitFinal(t, c, pro.ID).Output.(string)
	require.True(t, single, "flux-1.1-pro gives one URL string")
	require.Equal(t, fakereplicate.Stats{Created: 3, Succeeded: 3, MaxInFlight: 1}, fake.Stats())
}

func TestCancelFailAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hang, fake, _ := newClient(t, fakereplicate.Config{HangRate: 1})
	p, err := hang.CreatePredictionWithModel(ctx, "o", "m", replicate.PredictionInput{"prompt": "x"}, nil, false)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	got, err := hang.GetPrediction(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, replicate.Processing, got.Status, "a hanging prediction stays processing")
	canceled, err := hang.CancelPrediction(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, replicate.Canceled, canceled.Status)
	require.Equal(t, 1, fake.Stats().Canceled)
	require.Equal(t, 0, fake.Stats().InFlight)

	failing, _, _ := newClient(t, fakereplicate.Config{FailRate: 1})
	p, err = failing.CreatePredictionWithModel(ctx, "o", "m", replicate.PredictionInput{"prompt": "x"}, nil, false)
	require.NoError(t, err)
	done := waitFinal(t, failing, p.ID)
	require.Equal(t, replicate.Failed, done.Status)
	require.Contains(t, done.Error, "NSFW")

	var apiErr *replicate.APIError
	_, err = failing.CreatePredictionWithModel(ctx, "o", "m", replicate.PredictionInput{}, nil, false)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 422, apiErr.Status)
	_, err = failing.GetPrediction(ctx, "unknown")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 404, apiErr.Status)

	authed, _, _ := newClient(t, fakereplicate.Config{Token: "other"})
	_, err = authed.GetPrediction(ctx, "x")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 401, apiErr.Status)

	flaky, fake5, _ := newClient(t, fakereplicate.Config{ServerErrorRate: 1})
	_, err = flaky.CreatePredictionWithModel(ctx, "o", "m", replicate.PredictionInput{"prompt": "x"}, nil, false)
	require.ErrorAs(t, err, &apiErr)
	require.GreaterOrEqual(t, apiErr.Status, 500)
	require.Equal(t, 0, fake5.Stats().Created, "a 5xx creates nothing")
}

func TestRateLimitCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	fake := fakereplicate.New(fakereplicate.Config{RateLimitRate: 1, RetryAfter: 3 * time.Second})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/models/o/m/predictions", strings.NewReader(`{"input":{"prompt":"x"}}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "3", resp.Header.Get("Retry-After"))
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Equal(t, fakereplicate.Stats{RateLimited: 1}, fake.Stats())
}

func TestMaxInFlightAndSeededFaults(t *testing.T) {
	t.Parallel()
	c, fake, _ := newClient(t, fakereplicate.Config{Latency: 100 * time.Millisecond})
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_, err := c.CreatePredictionWithModel(context.Background(), "o", "m", replicate.PredictionInput{"prompt": "x"}, nil, false)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, 5, fake.Stats().MaxInFlight)

	outcomes := func() []replicate.Status {
		c, _, _ := newClient(t, fakereplicate.Config{FailRate: 0.5, Seed: 42})
		var out []replicate.Status
		for range 12 {
			p, err := c.CreatePredictionWithModel(context.Background(), "o", "m", replicate.PredictionInput{"prompt": "x"}, nil, false)
			require.NoError(t, err)
			out = append(out, waitFinal(t, c, p.ID).Status)
		}
		return out
	}
	first := outcomes()
	require.Equal(t, first, outcomes(), "the same seed draws the same faults")
	require.Contains(t, first, replicate.Failed)
	require.Contains(t, first, replicate.Succeeded)
}

func TestOutputTTLRemovesOutputs(t *testing.T) {
	t.Parallel()
	c, _, base := newClient(t, fakereplicate.Config{OutputTTL: 30 * time.Millisecond})
	p, err := c.CreatePredictionWithModel(context.Background(), "o", "m", replicate.PredictionInput{"prompt": "x"}, nil, false)
	require.NoError(t, err)
	done := waitFinal(t, c, p.ID)
	url := done.Output.([]any)[0].(string)
	require.Contains(t, url, base)
	time.Sleep(80 * time.Millisecond)
	gone, err := c.GetPrediction(context.Background(), p.ID)
	require.NoError(t, err)
	require.Nil(t, gone.Output)
	require.Contains(t, string(gone.RawJSON()), `"data_removed":true`)
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
