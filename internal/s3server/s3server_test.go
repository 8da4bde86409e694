// These tests check the server does what photogen's tests rely on: signed puts, public
// gets with the stored headers, overwrites, listing, refusals, and an outage that loses
// nothing.

package s3server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

func put(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	t.Helper()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("image/png"),
		CacheControl: aws.String("public, max-age=31536000, immutable"),
	})
	return err
}

func anonymousGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err, url)
	return resp, body
}

func TestServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s := Start(t)
	c := s.Client()
	public, private := s.NewBucket(t, true), s.NewBucket(t, false)

	require.NoError(t, put(t, ctx, c, public, "photos/a.png", []byte("first")))
	require.NoError(t, put(t, ctx, c, public, "photos/a.png", []byte("second")), "an overwrite")
	require.NoError(t, put(t, ctx, c, private, "photos/b.png", []byte("kept")))

	resp, body := anonymousGet(t, s.URL+"/"+public+"/photos/a.png")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "second", string(body))
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))

	resp, _ = anonymousGet(t, s.URL+"/"+private+"/photos/b.png")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a private bucket refuses the unsigned")
	resp, _ = anonymousGet(t, s.URL+"/"+public+"/photos/nope.png")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(public)})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1, "the overwrite left one object")
	require.Equal(t, "photos/a.png", aws.ToString(list.Contents[0].Key))

	require.Error(t, put(t, ctx, c, "no-such-bucket", "photos/c.png", []byte("x")))

	s.Stop(t)
	require.Error(t, put(t, ctx, c, public, "photos/c.png", []byte("x")), "stopped: refused")
	s.Start(t)
	resp, body = anonymousGet(t, s.URL+"/"+public+"/photos/a.png")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the objects outlive a restart")
	require.Equal(t, "second", string(body))
	require.NoError(t, put(t, ctx, c, public, "photos/c.png", []byte("x")))
}
