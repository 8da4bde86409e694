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

	"photogen/internal/s3server"
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

// testS3 is a store on one S3 server, what the tests check it with, and the
// Cache-Control the server got with an object.
type testS3 struct {
	store        *S3
	check        *s3.Client
	bucket       string
	cacheControl func(t *testing.T, name string) string
}

// s3Servers are the servers the store's tests run against: the in-process fake, and a
// real S3-compatible server process (versitygw, internal/s3server).
var s3Servers = map[string]func(t *testing.T, ctx context.Context) testS3{
	"gofakes3": func(t *testing.T, ctx context.Context) testS3 {
		store, check, puts := newTestS3(t, ctx)
		// gofakes3 does not keep Cache-Control: the header the PUT carried is checked.
		return testS3{store: store, check: check, bucket: testBucket, cacheControl: func(_ *testing.T, name string) string {
			return puts.get("/" + testBucket + "/" + name).Get("Cache-Control") // path style: /bucket/key
		}}
	},
	"versitygw": func(t *testing.T, ctx context.Context) testS3 {
		srv := s3server.Start(t)
		bucket := srv.NewBucket(t, false)
		store := realS3Store(t, ctx, srv, bucket, s3server.SecretKey)
		check := srv.Client()
		return testS3{store: store, check: check, bucket: bucket, cacheControl: func(t *testing.T, name string) string {
			out, _ := getObject(t, ctx, check, bucket, name)
			return aws.ToString(out.CacheControl)
		}}
	},
}

// realS3Store is a store on bucket of srv, signing with secret.
func realS3Store(t *testing.T, ctx context.Context, srv *s3server.Server, bucket, secret string) *S3 {
	t.Helper()
	store, err := NewS3(ctx, S3Config{
		Bucket: bucket, Endpoint: srv.URL, Region: s3server.Region, UsePathStyle: true,
		PublicBaseURL: "https://cdn.example.com/", NameSecret: testSecret(),
		Credentials: credentials.NewStaticCredentialsProvider(s3server.AccessKey, secret, ""),
	})
	require.NoError(t, err)
	return store
}

// getObject reads an object back with the SDK.
func getObject(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return out, body
}

// TestS3Put: a put stores the bytes, the content type and a year's Cache-Control under
// the key's name; the same key again overwrites that object and no other.
func TestS3Put(t *testing.T) {
	t.Parallel()
	for server, open := range s3Servers {
		t.Run(server, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			testPut(t, ctx, open(t, ctx))
		})
	}
}

func testPut(t *testing.T, ctx context.Context, s testS3) {
	data := pngBytes(t)
	url, err := s.store.Put(ctx, "pred-1", "image/png", data)
	require.NoError(t, err)
	name := ObjectName(testSecret(), "pred-1", "image/png")
	require.Equal(t, "https://cdn.example.com/"+name, url)

	out, body := getObject(t, ctx, s.check, s.bucket, name)
	require.Equal(t, data, body)
	require.Equal(t, "image/png", aws.ToString(out.ContentType))
	require.Equal(t, "public, max-age=31536000, immutable", s.cacheControl(t, name))

	// Idempotent: the same key overwrites its own object and nothing else.
	other, err := s.store.Put(ctx, "pred-2", "image/jpeg", jpegBytes(t))
	require.NoError(t, err)
	require.NotEqual(t, url, other)
	again, err := s.store.Put(ctx, "pred-1", "IMAGE/PNG; charset=binary", []byte("second"))
	require.NoError(t, err)
	require.Equal(t, url, again)

	list, err := s.check.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
	require.NoError(t, err)
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	require.ElementsMatch(t, []string{name, ObjectName(testSecret(), "pred-2", "image/jpeg")}, keys)

	out, body = getObject(t, ctx, s.check, s.bucket, name)
	require.Equal(t, []byte("second"), body)
	require.Equal(t, "image/png", aws.ToString(out.ContentType))
	out, body = getObject(t, ctx, s.check, s.bucket, ObjectName(testSecret(), "pred-2", "image/jpeg"))
	require.Equal(t, jpegBytes(t), body)
	require.Equal(t, "image/jpeg", aws.ToString(out.ContentType))
}

// TestS3PutRefuses: what is not an image, an empty key and a missing bucket are errors.
func TestS3PutRefuses(t *testing.T) {
	t.Parallel()
	for server, open := range s3Servers {
		t.Run(server, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			store := open(t, ctx).store

			_, err := store.Put(ctx, "k", "text/html", []byte("<html>"))
			require.ErrorIs(t, err, ErrNotImage)
			_, err = store.Put(ctx, "", "image/png", pngBytes(t))
			require.Error(t, err)

			missing := *store
			missing.bucket = "no-such-bucket"
			_, err = missing.Put(ctx, "k", "image/png", pngBytes(t))
			require.Error(t, err, "a server error comes back")
		})
	}
}

// TestS3PutRealServerRefuses: a real server checks what the fake does not: a wrong
// secret is refused, and so is every put while the server is down; once it is back, the
// same put succeeds. Nothing is written by a refused put.
func TestS3PutRealServerRefuses(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	srv := s3server.Start(t)
	bucket := srv.NewBucket(t, false)
	_, err := realS3Store(t, ctx, srv, bucket, "not-the-secret").Put(ctx, "k", "image/png", pngBytes(t))
	require.ErrorContains(t, err, "SignatureDoesNotMatch")

	store := realS3Store(t, ctx, srv, bucket, s3server.SecretKey)
	srv.Stop(t)
	_, err = store.Put(ctx, "k", "image/png", pngBytes(t))
	require.ErrorContains(t, err, "connection refused")
	srv.Start(t)
	list, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	require.Empty(t, list.Contents, "a refused put wrote nothing")
	_, err = store.Put(ctx, "k", "image/png", pngBytes(t))
	require.NoError(t, err)
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
