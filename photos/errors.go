// This file holds the errors that Download and the stores return, so that
// callers can tell a permanent failure from one worth retrying.

package photos

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrGone means the source answered 404 Not Found or 410 Gone: the output has
// expired or never existed, and retrying will not bring it back.
var ErrGone = errors.New("source is gone")

// ErrTooLarge means the body is longer than the caller's limit. Download stops
// reading as soon as it knows, so the rest of the body is never buffered.
var ErrTooLarge = errors.New("body exceeds size limit")

// ErrNotImage means the bytes are not a PNG, JPEG, WebP or GIF image, whatever
// the Content-Type header claimed; Put also returns it for a content type that
// it cannot store.
var ErrNotImage = errors.New("not a supported image")

// StatusError is the error Download returns when the source answers with a
// status other than 200 OK. For 404 and 410 it unwraps to ErrGone, so
// errors.Is(err, ErrGone) holds; any other status (5xx, 429, other 4xx) is
// treated as transient, and a caller may use StatusCode to snooze on 429.
type StatusError struct {
	StatusCode int
}

// Error reports the status code and its text, e.g. "status 503 Service Unavailable".
func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// Unwrap returns ErrGone for 404 and 410, and nil for any other status.
func (e *StatusError) Unwrap() error {
	if e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone {
		return ErrGone
	}
	return nil
}

// ErrDownloadFailed wraps a download of an output that failed for a reason that may pass
// (the source's 5xx or 429, a refused or reset connection, a timeout): Keep returns it
// after its own tries, so that the caller knows the source, not the store, is down.
var ErrDownloadFailed = errors.New("download failed")

// ErrStoreFailed wraps a photo that was downloaded but that the Bucket would not take (a
// full or read-only disk, S3 errors and timeouts): the store is down, not the source.
var ErrStoreFailed = errors.New("photo store failed")
