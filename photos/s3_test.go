package photos

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
)

const testBucket = "photogen-photos"

// putHeaders records the headers of each PUT the fake S3 server receives, by
// request path, because gofakes3 does not keep Cache-Control on objects.
type putHeaders struct {
	mu   sync.Mutex
	seen map[string]http.Header
}

func (p *putHeaders) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			p.mu.Lock()
			p.seen[r.URL.Path] = r.Header.Clone()
			p.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (p *putHeaders) get(path string) http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[path]
}

// newTestS3 starts an in-memory S3 server, creates the bucket through the
// S3 API, and returns a store on it, a plain SDK client for checking, and the
// headers of the PUTs the server received. wrap, when given, wraps the store's transport.
func newTestS3(t *testing.T, ctx context.Context, wrap ...func(http.RoundTripper) http.RoundTripper) (*S3, *s3.Client, *putHeaders) {
	t.Helper()
	puts := &putHeaders{seen: map[string]http.Header{}}
	srv := httptest.NewServer(puts.wrap(gofakes3.New(s3mem.New()).Server()))
	t.Cleanup(srv.Close)
	creds := credentials.NewStaticCredentialsProvider("test-access", "test-secret", "")

	check := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  creds,
		HTTPClient:   srv.Client(),
	})
	_, err := check.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)})
	require.NoError(t, err)

	cfg := S3Config{
		Bucket:        testBucket,
		Endpoint:      srv.URL,
		Region:        "us-east-1",
		UsePathStyle:  true,
		PublicBaseURL: "https://cdn.example.com/",
		NameSecret:    testSecret(),
		HTTPClient:    srv.Client(),
		Credentials:   creds,
	}
	if len(wrap) > 0 {
		cfg.WrapTransport = wrap[0]
	}
	store, err := NewS3(ctx, cfg)
	require.NoError(t, err)
	return store, check, puts
}

// getObject reads an object back with the SDK.
func getObject(t *testing.T, ctx context.Context, c *s3.Client, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return out, body
}

func TestS3Put(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	store, check, puts := newTestS3(t, ctx)
	data := pngBytes(t)

	url, err := store.Put(ctx, "pred-1", "image/png", data)
	require.NoError(t, err)
	name := ObjectName(testSecret(), "pred-1", "image/png")
	require.Equal(t, "https://cdn.example.com/"+name, url)

	out, body := getObject(t, ctx, check, name)
	require.Equal(t, data, body)
	require.Equal(t, "image/png", aws.ToString(out.ContentType))
	sent := puts.get("/" + testBucket + "/" + name) // path style: /bucket/key
	require.NotNil(t, sent, "the PUT went to the bucket's path")
	require.Equal(t, "public, max-age=31536000, immutable", sent.Get("Cache-Control"))
	require.Equal(t, "image/png", sent.Get("Content-Type"))

	// Idempotent: the same key overwrites its own object and nothing else.
	other, err := store.Put(ctx, "pred-2", "image/jpeg", jpegBytes(t))
	require.NoError(t, err)
	require.NotEqual(t, url, other)
	again, err := store.Put(ctx, "pred-1", "IMAGE/PNG; charset=binary", []byte("second"))
	require.NoError(t, err)
	require.Equal(t, url, again)

	list, err := check.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	require.NoError(t, err)
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	require.ElementsMatch(t, []string{name, ObjectName(testSecret(), "pred-2", "image/jpeg")}, keys)

	out, body = getObject(t, ctx, check, name)
	require.Equal(t, []byte("second"), body)
	require.Equal(t, "image/png", aws.ToString(out.ContentType))
	out, body = getObject(t, ctx, check, ObjectName(testSecret(), "pred-2", "image/jpeg"))
	require.Equal(t, jpegBytes(t), body)
	require.Equal(t, "image/jpeg", aws.ToString(out.ContentType))
}

func TestS3PutRefuses(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	store, _, _ := newTestS3(t, ctx)

	_, err := store.Put(ctx, "k", "text/html", []byte("<html>"))
	require.ErrorIs(t, err, ErrNotImage)
	_, err = store.Put(ctx, "", "image/png", pngBytes(t))
	require.Error(t, err)

	missing := *store
	missing.bucket = "no-such-bucket"
	_, err = missing.Put(ctx, "k", "image/png", pngBytes(t))
	require.Error(t, err, "a server error comes back")
}

func TestNewS3Validates(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	good := S3Config{
		Bucket: "b", Region: "us-east-1", PublicBaseURL: "https://cdn.example.com",
		NameSecret: testSecret(), Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	}
	_, err := NewS3(ctx, good)
	require.NoError(t, err)
	for name, mutate := range map[string]func(*S3Config){
		"no bucket":    func(c *S3Config) { c.Bucket = "" },
		"short secret": func(c *S3Config) { c.NameSecret = []byte("short") },
		"no base url":  func(c *S3Config) { c.PublicBaseURL = "" },
	} {
		cfg := good
		mutate(&cfg)
		_, err := NewS3(ctx, cfg)
		require.Error(t, err, name)
	}
}

// A wrapped transport (tracing's) sees every request the store sends, and what it adds
// to them (a traceparent header) reaches the server without breaking the signature.
func TestS3WrapTransport(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var methods []string
	store, _, puts := newTestS3(t, ctx, func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			methods = append(methods, r.Method)
			mu.Unlock()
			r = r.Clone(r.Context())
			r.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			return next.RoundTrip(r)
		})
	})
	_, err := store.Put(ctx, "pred-1", "image/png", pngBytes(t))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{http.MethodPut}, methods)
	sent := puts.get("/" + testBucket + "/" + ObjectName(testSecret(), "pred-1", "image/png"))
	require.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", sent.Get("Traceparent"))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
