// The photos of a generation, kept by photogen: in the local store the api serves, and
// on a real S3-compatible server (versitygw, started by internal/s3server), also through
// an outage of the store mid-generation.

package e2e

import (
	"context"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/s3server"
)

// TestPhotosOutliveTheProvider: every photo URL of a completed generation is served by
// photogen itself, as an image, also once the provider is gone.
func TestPhotosOutliveTheProvider(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 30 * time.Millisecond}, nil)
	_, c := s.startAPI(t)
	s.startWorker(t)
	sub := paySubscribers(t, c, 1)[0]
	st := waitState(t, c, sub.AccessToken, "completed", 30*time.Second)
	requireThirtyUnique(t, st)

	s.stopFake() // Replicate deleted the outputs, or is down: our copies remain
	for _, u := range st.PhotoURLs {
		require.True(t, strings.HasPrefix(u, c.BaseURL+"/photos/"), "served by photogen: %s", u)
		resp, err := http.Get(u)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		require.Contains(t, resp.Header.Get("Cache-Control"), "max-age=31536000")
		_, err = png.Decode(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
	}
	for _, bad := range []string{"/photos/../../etc/passwd", "/photos/", "/photos/photos/", "/photos/photos/nope.png"} {
		resp, err := c.Do(context.Background(), http.MethodGet, bad, nil, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, resp.Status, bad)
	}
	var provider int
	require.NoError(t, s.db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM predictions WHERE provider_output_url LIKE 'http://127.0.0.1:%/files/%'`).Scan(&provider))
	require.Equal(t, 30, provider, "the provider's URLs are kept for audit")
}

// s3Env is what an operator sets to keep the photos in bucket on srv: the bucket, the
// endpoint (path-style, as S3-compatible servers want), the region, the credentials
// (the SDK's own variables), and the public URL the bucket's objects are read from.
func s3Env(srv *s3server.Server, bucket string) map[string]string {
	return map[string]string{
		"S3_BUCKET":             bucket,
		"S3_ENDPOINT":           srv.URL,
		"S3_REGION":             s3server.Region,
		"S3_PATH_STYLE":         "true",
		"AWS_ACCESS_KEY_ID":     s3server.AccessKey,
		"AWS_SECRET_ACCESS_KEY": s3server.SecretKey,
		"PHOTO_BASE_URL":        srv.URL + "/" + bucket,
	}
}

// s3Generation starts a real S3 server with a public bucket, an api and a worker that
// keep the photos there (the fake Replicate answering after latency), and pays for one
// subscriber's generation.
func s3Generation(t *testing.T, latency time.Duration) (*s3server.Server, string, *stack, *demo.Client, demo.Subscriber) {
	t.Helper()
	srv := s3server.Start(t)
	bucket := srv.NewBucket(t, true)
	s := newStack(t, fakereplicate.Config{Latency: latency}, s3Env(srv, bucket))
	_, c := s.startAPI(t)
	s.startWorker(t)
	return srv, bucket, s, c, paySubscribers(t, c, 1)[0]
}

// requireInBucket checks that the bucket holds exactly the photos at urls, each an
// object under the public base URL that an unsigned GET reads as a PNG with a year's
// Cache-Control, and nothing else: no photo lost, none stored twice under two names.
func requireInBucket(t *testing.T, srv *s3server.Server, bucket string, urls []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := srv.URL + "/" + bucket + "/"
	want := make([]string, 0, len(urls))
	for _, u := range urls {
		require.True(t, strings.HasPrefix(u, base+"photos/"), "an object of the bucket: %s", u)
		want = append(want, strings.TrimPrefix(u, base))
		resp, err := http.Get(u)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, u)
		require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
		_, err = png.Decode(resp.Body)
		resp.Body.Close()
		require.NoError(t, err, u)
	}
	var keys []string
	pages := s3.NewListObjectsV2Paginator(srv.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	require.ElementsMatch(t, want, keys, "the bucket holds the photos and nothing else")
}

// TestPhotosOnS3: with S3_BUCKET set, a generation's 30 photos are objects in a real
// S3-compatible server, read from the bucket's public URL once the provider is gone; the
// api serves no /photos/ of its own then.
func TestPhotosOnS3(t *testing.T) {
	t.Parallel()
	srv, bucket, s, c, sub := s3Generation(t, 30*time.Millisecond)
	st := waitState(t, c, sub.AccessToken, "completed", 60*time.Second)
	requireThirtyUnique(t, st)

	s.stopFake() // Replicate deleted the outputs: the bucket's copies remain
	requireInBucket(t, srv, bucket, st.PhotoURLs)
	name := strings.TrimPrefix(st.PhotoURLs[0], s.env["PHOTO_BASE_URL"])
	resp, err := c.Do(context.Background(), http.MethodGet, name, nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, resp.Status, "the api serves no %s with S3", name)
}

// TestS3OutageMidGeneration stops the S3 server once 5 photos are stored, keeps it down
// for 10 s, and starts it again on the same data: the generation completes with 30
// photos, all in the bucket, none paid twice. The time from the restart to completion is
// logged: the store outage's figure for docs/reliability.md.
func TestS3OutageMidGeneration(t *testing.T) {
	t.Parallel()
	srv, bucket, s, c, sub := s3Generation(t, 300*time.Millisecond)
	waitPhotos(t, c, sub.AccessToken, 5)
	srv.Stop(t)
	time.Sleep(10 * time.Second) // the outage: every put meanwhile is refused
	st, err := c.GetStatus(context.Background(), sub.AccessToken)
	require.NoError(t, err)
	require.Less(t, st.TotalPhotos, 30, "the outage held the generation up")
	held := st.TotalPhotos
	srv.Start(t)
	restarted := time.Now()

	st = waitState(t, c, sub.AccessToken, "completed", 150*time.Second)
	t.Logf("S3 down 10 s after 5 photos (%d when it came back): completed %.1f s after it came back",
		held, time.Since(restarted).Seconds())
	requireThirtyUnique(t, st)
	requireInBucket(t, srv, bucket, st.PhotoURLs)
	requireNonePaidTwice(t, s, sub)
}
