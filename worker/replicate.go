package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/replicate/replicate-go"

	"photogen/store"
)

// DefaultReplicateBaseURL is Replicate's own API.
const DefaultReplicateBaseURL = "https://api.replicate.com/v1"

// ReplicateConfig configures the Replicate provider.
type ReplicateConfig struct {
	Token       string
	BaseURL     string        // default DefaultReplicateBaseURL
	Model       string        // "owner/name" or "owner/name:version"
	HTTPTimeout time.Duration // per request; default 30s
}

// Replicate is the Provider backed by replicate-go. It creates one-output predictions
// and never lets the client retry or sleep on its own: retries belong to the job.
type Replicate struct {
	client       *replicate.Client
	owner, model string
	version      string
}

// NewReplicate returns a Replicate provider, or an error for a missing token or a model
// that is not "owner/name[:version]".
func NewReplicate(cfg ReplicateConfig) (*Replicate, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultReplicateBaseURL
	}
	if cfg.HTTPTimeout == 0 {
		cfg.HTTPTimeout = 30 * time.Second
	}
	name, version, _ := strings.Cut(cfg.Model, ":")
	owner, model, ok := strings.Cut(name, "/")
	if !ok || owner == "" || model == "" || strings.Contains(model, "/") {
		return nil, fmt.Errorf("replicate model %q: want owner/name or owner/name:version", cfg.Model)
	}
	httpClient := &http.Client{
		Timeout:   cfg.HTTPTimeout,
		Transport: retryAfterTransport{next: http.DefaultTransport},
	}
	client, err := replicate.NewClient(
		replicate.WithToken(cfg.Token),
		replicate.WithBaseURL(cfg.BaseURL),
		replicate.WithHTTPClient(httpClient),
		// One attempt: the client's retry loop sleeps without watching the context, even
		// after its last attempt; retries belong to the job (see retryAfterTransport).
		replicate.WithRetryPolicy(0, &replicate.ConstantBackoff{}),
		replicate.WithUserAgent("photogen"),
	)
	if err != nil {
		return nil, fmt.Errorf("replicate client: %w", err)
	}
	return &Replicate{client: client, owner: owner, model: model, version: version}, nil
}

// Create starts a one-output prediction for prompt.
func (r *Replicate) Create(ctx context.Context, prompt string) (Prediction, error) {
	ctx, hold := withRetryAfter(ctx)
	input := replicate.PredictionInput{"prompt": prompt, "num_outputs": 1}
	var p *replicate.Prediction
	var err error
	if r.version != "" {
		p, err = r.client.CreatePrediction(ctx, r.version, input, nil, false)
	} else {
		p, err = r.client.CreatePredictionWithModel(ctx, r.owner, r.model, input, nil, false)
	}
	if err != nil {
		return Prediction{}, fmt.Errorf("create prediction: %w", translateReplicate(err, hold))
	}
	return fromReplicate(p), nil
}

// Get fetches the prediction's current state.
func (r *Replicate) Get(ctx context.Context, id string) (Prediction, error) {
	ctx, hold := withRetryAfter(ctx)
	p, err := r.client.GetPrediction(ctx, id)
	if err != nil {
		return Prediction{}, fmt.Errorf("get prediction %s: %w", id, translateReplicate(err, hold))
	}
	return fromReplicate(p), nil
}

// Cancel cancels the prediction at Replicate.
func (r *Replicate) Cancel(ctx context.Context, id string) error {
	ctx, hold := withRetryAfter(ctx)
	if _, err := r.client.CancelPrediction(ctx, id); err != nil {
		return fmt.Errorf("cancel prediction %s: %w", id, translateReplicate(err, hold))
	}
	return nil
}

func fromReplicate(p *replicate.Prediction) Prediction {
	out := Prediction{ID: p.ID, Status: store.PredictionStatus(p.Status)}
	switch o := p.Output.(type) {
	case string:
		out.OutputURLs = []string{o}
	case []any:
		for _, v := range o {
			if s, ok := v.(string); ok && s != "" {
				out.OutputURLs = append(out.OutputURLs, s)
			}
		}
	}
	if p.Error != nil {
		out.Error = fmt.Sprint(p.Error)
	}
	return out
}

func translateReplicate(err error, hold *retryAfterHolder) error {
	var apiErr *replicate.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Detail
		if msg == "" {
			msg = apiErr.Title
		}
		return &ProviderError{Status: apiErr.Status, RetryAfter: hold.d, Message: msg}
	}
	return err
}

type retryAfterKey struct{}

// retryAfterHolder receives the Retry-After of the one call whose context carries it.
type retryAfterHolder struct{ d time.Duration }

func withRetryAfter(ctx context.Context) (context.Context, *retryAfterHolder) {
	h := &retryAfterHolder{}
	return context.WithValue(ctx, retryAfterKey{}, h), h
}

// retryAfterTransport hands a throttled or failed response's Retry-After to the caller
// and hides it from replicate-go, whose retry loop would otherwise sleep on it even when
// it makes no further attempt.
type retryAfterTransport struct{ next http.RoundTripper }

func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if h, ok := req.Context().Value(retryAfterKey{}).(*retryAfterHolder); ok {
			if secs, perr := strconv.Atoi(v); perr == nil {
				h.d = time.Duration(secs) * time.Second
			} else if at, perr := http.ParseTime(v); perr == nil {
				h.d = time.Until(at)
			}
		}
		resp.Header.Del("Retry-After")
	}
	return resp, nil
}
