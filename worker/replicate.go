package worker

import (
	"context"
	"encoding/json"
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
	// SeedInput is the model input that carries the random seed photogen uses to find a
	// prediction whose create answer was lost; default "seed" (flux models). "none"
	// sends no seed, and such predictions can then not be found again.
	SeedInput string
}

// Replicate is the Provider backed by replicate-go. It creates one-output predictions
// and never lets the client retry or sleep on its own: retries belong to the job.
type Replicate struct {
	client       *replicate.Client
	owner, model string
	version      string
	seedInput    string
	token        string
	http         *http.Client
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
	switch cfg.SeedInput {
	case "":
		cfg.SeedInput = "seed"
	case "none":
		cfg.SeedInput = ""
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
	return &Replicate{client: client, owner: owner, model: model, version: version, seedInput: cfg.SeedInput,
		token: cfg.Token, http: httpClient}, nil
}

// Create starts a one-output prediction for prompt.
func (r *Replicate) Create(ctx context.Context, prompt string, seed int64) (Prediction, error) {
	ctx, hold := withRetryAfter(ctx)
	input := replicate.PredictionInput{"prompt": prompt, "num_outputs": 1}
	if r.seedInput != "" {
		input[r.seedInput] = seed
	}
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

// Find pages through the account's predictions, newest first, back to since, for the
// one whose input has seed and prompt.
func (r *Replicate) Find(ctx context.Context, seed int64, prompt string, since time.Time) (Prediction, bool, error) {
	if r.seedInput == "" {
		return Prediction{}, false, nil
	}
	page, err := r.client.ListPredictions(ctx)
	for pages := 0; err == nil && pages < maxListPages; pages++ {
		older := false
		for i := range page.Results {
			p := &page.Results[i]
			if created, perr := time.Parse(time.RFC3339Nano, p.CreatedAt); perr == nil && created.Before(since) {
				older = true
				continue
			}
			if s, ok := p.Input[r.seedInput].(float64); ok && int64(s) == seed && p.Input["prompt"] == prompt {
				return fromReplicate(p), true, nil
			}
		}
		if older || page.Next == nil {
			return Prediction{}, false, nil
		}
		page, err = r.nextPage(ctx, *page.Next)
	}
	if err != nil {
		return Prediction{}, false, fmt.Errorf("list predictions: %w", translateReplicate(err, &retryAfterHolder{}))
	}
	return Prediction{}, false, fmt.Errorf("list predictions: no match within %d pages", maxListPages)
}

// maxListPages bounds Find's walk through the account's predictions.
const maxListPages = 50

// nextPage fetches a list page by its absolute URL. replicate-go's own paginator
// blocks forever on an unread error channel, so photogen fetches pages itself.
func (r *Replicate) nextPage(ctx context.Context, url string) (*replicate.Page[replicate.Prediction], error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &ProviderError{Status: resp.StatusCode, Message: "list predictions page"}
	}
	var page replicate.Page[replicate.Prediction]
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("decode list page: %w", err)
	}
	return &page, nil
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
