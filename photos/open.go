// This file chooses and builds the photo bucket from configuration: a local directory
// served by the api at /photos/, or an S3-compatible bucket.

package photos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Config is where photos are kept. Zero fields take the defaults of WithDefaults.
type Config struct {
	Dir        string // the local store's directory; default ./data/photos
	BaseURL    string // public URL prefix of the photos
	NameSecret string // keys the unguessable object names
	MaxBytes   int64  // the largest output accepted; default DefaultMaxPhotoBytes
	S3Bucket   string // use S3-compatible storage instead of Dir
	S3Endpoint string
	S3Region   string
	S3Path     bool // path-style addressing
	// S3Transport wraps the S3 client's HTTP transport (the wiring passes tracing's);
	// nil leaves it as the SDK builds it.
	S3Transport func(http.RoundTripper) http.RoundTripper
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Dir == "" {
		c.Dir = "./data/photos"
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxPhotoBytes
	}
	return c
}

// Validate reports every setting that cannot work, each error naming its field first
// (the command line names the variable instead).
func (c Config) Validate() error {
	var errs []error
	if len(c.NameSecret) < MinSecretLen {
		errs = append(errs, fmt.Errorf("NameSecret must be at least %d bytes: it keys the photos' unguessable names, and must stay the same across processes and restarts", MinSecretLen))
	}
	if c.S3Bucket != "" && c.BaseURL == "" {
		errs = append(errs, errors.New("BaseURL is required with S3Bucket: the public URL prefix of the bucket's objects"))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, errors.New("MaxBytes must not be negative"))
	}
	return errors.Join(errs...)
}

// Open builds the bucket c describes, and for the local store the handler the api
// serves at /photos/ (nil for S3).
func Open(ctx context.Context, c Config) (Bucket, http.Handler, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	if c.S3Bucket != "" {
		s3, err := NewS3(ctx, S3Config{Bucket: c.S3Bucket, Endpoint: c.S3Endpoint, Region: c.S3Region,
			UsePathStyle: c.S3Path, PublicBaseURL: c.BaseURL, NameSecret: []byte(c.NameSecret), WrapTransport: c.S3Transport})
		return s3, nil, err
	}
	local, err := NewLocal(LocalConfig{Dir: c.Dir, BaseURL: c.BaseURL, NameSecret: []byte(c.NameSecret)})
	if err != nil {
		return nil, nil, err
	}
	return local, local.Handler(), nil
}
