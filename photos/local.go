// This file is the filesystem Bucket: photos are files under a directory that
// the api serves (see handler.go), for single-host deployments and tests.

package photos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LocalConfig configures a Local store.
type LocalConfig struct {
	// Dir is the directory that holds the photos; NewLocal creates it.
	Dir string
	// BaseURL is the absolute http(s) URL under which the api serves Dir with
	// Local.Handler, e.g. "https://api.example.com/media". A photo's URL is
	// BaseURL + "/" + its object name, e.g. ".../media/photos/3f9c...e1.png".
	BaseURL string
	// NameSecret keys the HMAC that makes object names unguessable; at least
	// MinSecretLen bytes. Changing it renames every future object.
	NameSecret []byte
}

// Local is a Bucket that writes each photo to Dir/<object name>, where the
// object name is ObjectName(NameSecret, key, contentType), so files live in
// Dir/photos/. It is safe for concurrent use.
type Local struct {
	dir     string
	baseURL string
	secret  []byte
}

// NewLocal checks cfg, creates Dir/photos (mode 0755) if missing, and returns
// the store. It fails when Dir is empty, BaseURL is not an absolute http(s)
// URL, NameSecret is shorter than MinSecretLen, or the directory cannot be made.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Dir == "" {
		return nil, errors.New("new local store: Dir is required")
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("new local store: %w", err)
	}
	if err := checkSecret(cfg.NameSecret); err != nil {
		return nil, fmt.Errorf("new local store: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("new local store: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(namePrefix)), 0o755); err != nil {
		return nil, fmt.Errorf("new local store: %w", err)
	}
	return &Local{dir: dir, baseURL: base, secret: append([]byte(nil), cfg.NameSecret...)}, nil
}

// Put writes data to the key's object file and returns BaseURL + "/" + the
// object name; see Bucket for its idempotency contract. The write is atomic:
// data goes to a temporary file in the same directory, is synced, made mode
// 0644 and renamed over the object, so a reader sees the old photo or the new
// one, never a partial file. It refuses an empty key and non-image content
// types (ErrNotImage).
func (l *Local) Put(ctx context.Context, key, contentType string, data []byte) (string, error) {
	if key == "" {
		return "", errors.New("local put: empty key")
	}
	if _, ok := extension(contentType); !ok {
		return "", fmt.Errorf("local put %s: content type %q: %w", key, contentType, ErrNotImage)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("local put %s: %w", key, err)
	}
	name := ObjectName(l.secret, key, contentType)
	if err := writeAtomic(filepath.Join(l.dir, filepath.FromSlash(name)), data); err != nil {
		return "", fmt.Errorf("local put %s as %s: %w", key, name, err)
	}
	return l.baseURL + "/" + name, nil
}

// writeAtomic replaces path with data through a synced temporary file in the
// same directory, then syncs the directory so the rename survives a crash.
// Temporary names start with "." and so are never served.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
