// This file makes a prediction's output ours: downloaded, checked and put in a Bucket.

package photos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// DefaultMaxPhotoBytes is the largest output accepted: 20 MiB.
const DefaultMaxPhotoBytes = 20 << 20

// Keeper makes a prediction's output ours before it counts: it downloads the image
// (bounded in time and size, checked to be an image by its bytes) and stores it under a
// name derived from the prediction id, so a repeat stores the same object again.
type Keeper struct {
	Bucket    Bucket
	HTTP      *http.Client      // default: a client with a 30 s timeout over Transport
	Transport http.RoundTripper // carries the default client's downloads; default http.DefaultTransport
	MaxBytes  int64             // default DefaultMaxPhotoBytes
}

// Keep stores the output at url of prediction id and returns our URL. Failures that
// retrying cannot cure are ErrGone, ErrNotImage and ErrTooLarge (wrapped);
// others are retried here three times, then returned wrapping ErrDownloadFailed or
// ErrStoreFailed, for the part that failed last.
func (k *Keeper) Keep(ctx context.Context, id, url string) (string, error) {
	client, limit := k.HTTP, k.MaxBytes
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second, Transport: k.Transport}
	}
	if limit <= 0 {
		limit = DefaultMaxPhotoBytes
	}
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(250<<attempt) * time.Millisecond):
			}
		}
		var data []byte
		var contentType string
		data, contentType, err = Download(ctx, client, url, limit)
		if errors.Is(err, ErrGone) || errors.Is(err, ErrNotImage) || errors.Is(err, ErrTooLarge) {
			return "", err
		}
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrDownloadFailed, err)
			continue
		}
		var ours string
		if ours, err = k.Bucket.Put(ctx, id, contentType, data); err == nil {
			return ours, nil
		}
		err = fmt.Errorf("%w: %w", ErrStoreFailed, err)
	}
	return "", fmt.Errorf("keep output of %s: %w", id, err)
}
