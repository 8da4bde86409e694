// The OpenAPI document against the real handlers: an answer as the api gives it passes
// openapi's validating Transport, and the same answer with one field drifted is caught.

package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/openapi/contract"
)

// reports keeps what the Transport reports, instead of failing the test: here a report is
// what the test expects.
type reports struct {
	mu   sync.Mutex
	errs []string
}

func (r *reports) Helper() {}
func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestADriftedResponseFieldIsCaught(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "drift@example.com", "a portrait")
	require.NoError(t, err)
	spec, err := contract.NewValidator()
	require.NoError(t, err)

	// through serves the api behind a proxy that passes its status answers through drift.
	through := func(drift func([]byte) []byte) (*demo.Client, *reports) {
		upstream, err := url.Parse(e.url)
		require.NoError(t, err)
		proxy := httputil.NewSingleHostReverseProxy(upstream)
		proxy.ModifyResponse = func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			b = drift(b)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		}
		srv := httptest.NewServer(proxy)
		t.Cleanup(srv.Close)
		rep := &reports{}
		return &demo.Client{BaseURL: srv.URL, HTTP: &http.Client{Transport: spec.Transport(nil, rep)}}, rep
	}

	same, rep := through(func(b []byte) []byte { return b })
	st, err := same.GetStatus(ctx, sub.AccessToken)
	require.NoError(t, err)
	require.Equal(t, "awaiting_payment", st.State)
	require.Empty(t, rep.errs, "the api's own answer matches the document")

	// A field renamed, as a refactoring might: the document's totalPhotos is gone.
	drifted, rep := through(func(b []byte) []byte { return bytes.Replace(b, []byte(`"totalPhotos"`), []byte(`"photoCount"`), 1) })
	_, err = drifted.GetStatus(ctx, sub.AccessToken)
	require.NoError(t, err, "the client itself does not notice")
	require.Len(t, rep.errs, 1)
	require.Contains(t, rep.errs[0], "GET /api/blueprint/status")
	require.Contains(t, rep.errs[0], "totalPhotos")
	t.Log(rep.errs[0])

	// A field of the wrong type.
	typed, rep := through(func(b []byte) []byte { return bytes.Replace(b, []byte(`"paid":false`), []byte(`"paid":"no"`), 1) })
	_, err = typed.GetStatus(ctx, sub.AccessToken)
	require.Error(t, err, "the client's decoding fails too")
	require.Len(t, rep.errs, 1)
	require.True(t, strings.Contains(rep.errs[0], "paid"), rep.errs[0])
}
