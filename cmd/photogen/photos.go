package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"photogen/storage"
)

// photosConfig is where photos are kept: a local directory served by the api at
// /photos/, or S3-compatible object storage when S3_BUCKET is set.
type photosConfig struct {
	Dir        string // STORAGE_DIR
	BaseURL    string // PHOTO_BASE_URL: public URL prefix of the photos
	NameSecret string // PHOTO_NAME_SECRET: keys the unguessable object names
	MaxBytes   int64  // MAX_PHOTO_BYTES
	S3Bucket   string
	S3Endpoint string
	S3Region   string
	S3Path     bool // S3_PATH_STYLE
}

// openPhotos builds the photo store; for the local store it also returns the handler
// the api serves at /photos/.
func openPhotos(ctx context.Context, c photosConfig) (storage.Store, http.Handler, error) {
	if len(c.NameSecret) < storage.MinSecretLen {
		return nil, nil, fmt.Errorf("PHOTO_NAME_SECRET must be at least %d bytes: it keys the photos' unguessable names, and must stay the same across processes and restarts", storage.MinSecretLen)
	}
	if c.S3Bucket != "" {
		if c.BaseURL == "" {
			return nil, nil, errors.New("PHOTO_BASE_URL is required with S3_BUCKET: the public URL prefix of the bucket's objects")
		}
		s3, err := storage.NewS3(ctx, storage.S3Config{Bucket: c.S3Bucket, Endpoint: c.S3Endpoint, Region: c.S3Region,
			UsePathStyle: c.S3Path, PublicBaseURL: c.BaseURL, NameSecret: []byte(c.NameSecret)})
		return s3, nil, err
	}
	local, err := storage.NewLocal(storage.LocalConfig{Dir: c.Dir, BaseURL: c.BaseURL, NameSecret: []byte(c.NameSecret)})
	if err != nil {
		return nil, nil, err
	}
	return local, local.Handler(), nil
}
