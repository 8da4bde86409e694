// This file fetches a prediction's output before the provider deletes it,
// refusing anything that is not a reasonably sized image.

package photos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// drainLimit is how much of a refused response body is read so that the
// connection can be reused; anything longer closes the connection instead.
const drainLimit = 4 << 10

// Download GETs url with client under ctx and returns the body and its
// content type, detected from the bytes with http.DetectContentType (the
// Content-Type header is ignored). It guarantees that it never reads more
// than maxBytes+1 bytes of the body, and it fails with:
//
//   - an error wrapping *StatusError for any status other than 200; for 404
//     and 410 that error also matches ErrGone (the output will not come back),
//     for every other status (5xx, 429, ...) the caller should retry;
//   - an error wrapping ErrTooLarge when the body, or its declared
//     Content-Length, exceeds maxBytes;
//   - an error wrapping ErrNotImage when the bytes are not a PNG, JPEG, WebP or
//     GIF image;
//   - any other error (network, timeout, cancelled ctx) as transient.
//
// client must not be nil and maxBytes must be positive.
func Download(ctx context.Context, client *http.Client, url string, maxBytes int64) (data []byte, contentType string, err error) {
	if client == nil || maxBytes <= 0 {
		return nil, "", errors.New("download: need a client and a positive size limit")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("download: %w", err)
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/webp, image/gif")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit) // best effort, for reuse
		return nil, "", fmt.Errorf("download: %w", &StatusError{StatusCode: resp.StatusCode})
	}
	if resp.ContentLength > maxBytes {
		return nil, "", fmt.Errorf("download: content length %d over %d: %w", resp.ContentLength, maxBytes, ErrTooLarge)
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("download: read body: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, "", fmt.Errorf("download: body over %d bytes: %w", maxBytes, ErrTooLarge)
	}
	contentType = http.DetectContentType(data)
	if _, ok := extension(contentType); !ok {
		return nil, "", fmt.Errorf("download: content is %s: %w", contentType, ErrNotImage)
	}
	return data, contentType, nil
}
