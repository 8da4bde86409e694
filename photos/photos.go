// Package photos keeps generated photos durably, because Replicate deletes a
// prediction's outputs about an hour after it finishes.
//
// The worker downloads an output with Download, stores it in a Bucket, and
// appends the URL that Put returns to the subscriber. Two stores exist: Local,
// which writes files under a directory that the api serves with Local.Handler,
// and S3, which writes to any S3-compatible bucket.
//
// Both stores name an object the same way (see ObjectName): the name is derived
// from a caller's key, such as the prediction id, with a secret HMAC, so it is
// stable for the key (a retried job overwrites the same object) and cannot be
// guessed from the key by anyone who lacks the secret.
package photos

import "context"

// Bucket keeps photos durably and names them by a public URL.
type Bucket interface {
	// Put stores the image bytes under a name derived from key (e.g. the
	// prediction id) and returns its public URL. It is idempotent: the same key
	// and content type always give the same object name and URL, and a second
	// Put of the same key overwrites only that object (never another), creating
	// no second photo. A content type other than image/png, image/jpeg,
	// image/webp or image/gif is refused with an error that wraps ErrNotImage.
	Put(ctx context.Context, key string, contentType string, data []byte) (url string, err error)
}

// Compile-time checks that both implementations satisfy Bucket.
var (
	_ Bucket = (*Local)(nil)
	_ Bucket = (*S3)(nil)
)
