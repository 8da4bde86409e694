// This file is the S3 Bucket: photos are objects in an S3-compatible bucket
// (AWS S3, MinIO, R2, ...) served from a public base URL such as a CDN.

package photos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Config configures an S3 store.
type S3Config struct {
	// Bucket receives the objects; it must exist. Required.
	Bucket string
	// Endpoint is the service URL for S3-compatible servers such as MinIO,
	// e.g. "http://minio:9000"; empty means AWS S3 itself.
	Endpoint string
	// Region is the signing region; empty takes it from the AWS environment
	// (AWS_REGION, shared config). One of the two must give a region.
	Region string
	// UsePathStyle addresses the bucket as Endpoint/Bucket/key instead of
	// Bucket.host/key; MinIO and most S3-compatible servers need it.
	UsePathStyle bool
	// PublicBaseURL is the absolute http(s) URL under which the bucket's
	// objects are public, e.g. "https://cdn.example.com". A photo's URL is
	// PublicBaseURL + "/" + its object name. Required.
	PublicBaseURL string
	// NameSecret keys the HMAC that makes object names unguessable; at least
	// MinSecretLen bytes. Changing it renames every future object.
	NameSecret []byte
	// HTTPClient, if set, replaces the SDK's HTTP client; AWS_CA_BUNDLE then
	// does not apply, the client's own TLS settings do.
	HTTPClient *http.Client
	// WrapTransport, if set, wraps the transport of the SDK's HTTP client (or of
	// HTTPClient): tracing puts a client span around each request with it.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// Credentials, if set, replaces the default chain (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, shared files, instance roles); tests use it.
	Credentials aws.CredentialsProvider
}

// S3 is a Bucket that writes each photo as the object
// ObjectName(NameSecret, key, contentType) in Bucket. It is safe for
// concurrent use.
type S3 struct {
	client  *s3.Client
	bucket  string
	baseURL string
	secret  []byte
}

// NewS3 checks cfg and builds an S3 client with config.LoadDefaultConfig. It
// fails when Bucket is empty, PublicBaseURL is not an absolute http(s) URL,
// NameSecret is shorter than MinSecretLen, or no region is configured. It
// does not contact the service; the first Put does.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("new s3 store: Bucket is required")
	}
	base, err := checkBaseURL(cfg.PublicBaseURL)
	if err != nil {
		return nil, fmt.Errorf("new s3 store: public %w", err)
	}
	if err := checkSecret(cfg.NameSecret); err != nil {
		return nil, fmt.Errorf("new s3 store: %w", err)
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	if cfg.Endpoint != "" {
		// Many S3-compatible servers reject the flexible checksums that the
		// SDK sends by default; send them only where the API requires them.
		opts = append(opts,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("new s3 store: load aws config: %w", err)
	}
	if cfg.HTTPClient != nil {
		// Set after loading: config.WithHTTPClient fails with a plain
		// *http.Client whenever AWS_CA_BUNDLE is set.
		awsCfg.HTTPClient = cfg.HTTPClient
	}
	if awsCfg.Region == "" {
		return nil, errors.New("new s3 store: no region: set Region or AWS_REGION")
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.UsePathStyle
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if cfg.WrapTransport != nil {
			// Here the client the SDK resolved (its defaults applied) is set.
			o.HTTPClient = doer{cfg.WrapTransport(roundTripper{o.HTTPClient})}
		}
	})
	return &S3{client: client, bucket: cfg.Bucket, baseURL: base, secret: append([]byte(nil), cfg.NameSecret...)}, nil
}

// roundTripper is the SDK's HTTP client seen as a transport, and doer a transport seen
// as the SDK's client: together they put a wrapper around what the SDK sends, without
// another http.Client's redirects or timeouts in between.
type (
	roundTripper struct{ c aws.HTTPClient }
	doer         struct{ rt http.RoundTripper }
)

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return t.c.Do(r) }
func (d doer) Do(r *http.Request) (*http.Response, error)                { return d.rt.RoundTrip(r) }

// Put uploads data as the key's object with its Content-Type and
// Cache-Control "public, max-age=31536000, immutable", and returns
// PublicBaseURL + "/" + the object name; see Bucket for its idempotency
// contract (S3 replaces an object atomically). It refuses an empty key and
// non-image content types (ErrNotImage); SDK errors are returned wrapped, and
// the SDK has already retried the transient ones.
func (s *S3) Put(ctx context.Context, key, contentType string, data []byte) (string, error) {
	if key == "" {
		return "", errors.New("s3 put: empty key")
	}
	ext, ok := extension(contentType)
	if !ok {
		return "", fmt.Errorf("s3 put %s: content type %q: %w", key, contentType, ErrNotImage)
	}
	canonical, _ := contentTypeOf(ext) // "IMAGE/PNG; x=y" is stored as "image/png"
	name := ObjectName(s.secret, key, contentType)
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(name),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String(canonical),
		CacheControl:  aws.String(cacheControl),
	})
	if err != nil {
		return "", fmt.Errorf("s3 put %s as %s: %w", key, name, err)
	}
	return s.baseURL + "/" + name, nil
}
