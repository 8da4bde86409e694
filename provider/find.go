// This file finds a prediction whose create answer was lost, by the seed photogen put
// in its input, walking the account's predictions newest first.

package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"photogen/generation"
	"time"

	"github.com/replicate/replicate-go"
)

// Find pages through the account's predictions, newest first, back to since, for the
// one whose input has seed and prompt.
func (r *Replicate) Find(ctx context.Context, seed int64, prompt string, since time.Time) (generation.Prediction, bool, error) {
	if r.seedInput == "" {
		return generation.Prediction{}, false, nil
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
			return generation.Prediction{}, false, nil
		}
		page, err = r.nextPage(ctx, *page.Next)
	}
	if err != nil {
		return generation.Prediction{}, false, fmt.Errorf("list predictions: %w", translateReplicate(err, &retryAfterHolder{}))
	}
	return generation.Prediction{}, false, fmt.Errorf("list predictions: no match within %d pages", maxListPages)
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
		return nil, &Error{Status: resp.StatusCode, Message: "list predictions page"}
	}
	var page replicate.Page[replicate.Prediction]
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("decode list page: %w", err)
	}
	return &page, nil
}
