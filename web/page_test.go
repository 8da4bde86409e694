package web

// The page in a real browser: headless Chromium, driven by internal/browser (chromedp), against
// Handler and fakeAPI. internal/dev/browser.sh finds or installs Chromium; when it cannot, the
// test fails (it never skips). PHOTOGEN_SCREENSHOT=docs/page.png (relative
// to the repository's root) saves the completed page.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/browser"
	"photogen/openapi/contract"
)

// repoRoot is the repository's root, seen from this package's directory (where go test runs).
const repoRoot = ".."

// drive opens the page at base in Chromium as p says (see internal/browser). The driver's
// timeout is generous: it only matters on a machine too loaded to run Chromium, and a run
// that passes takes 2-10 s.
func drive(t *testing.T, chromium, base string, p browser.Page) browser.Result {
	t.Helper()
	return browser.Open(t, chromium, base, 40*time.Second, p)
}

// site serves the page and f at one origin, the photos at another (so that the
// Content-Security-Policy's img-src is put to the test).
func site(t *testing.T, spec *contract.Validator, photos *httptest.Server, f *fakeAPI) *httptest.Server {
	t.Helper()
	f.t, f.spec, f.photoBase = t, spec, photos.URL
	if f.token == "" {
		f.token = newToken(t)
	}
	f.ping = time.Second
	f.queuedFor = 400 * time.Millisecond
	if f.step == 0 {
		f.step = 100 * time.Millisecond // 30 photos in 3 s
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/blueprint/status", f.checked(f.status))
	mux.HandleFunc("GET /api/blueprint/events", f.events)
	mux.Handle("/", Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPageInChromium(t *testing.T) {
	chromium := browser.Chromium(t)
	spec, err := contract.NewValidator()
	require.NoError(t, err)
	photos := photoServer(t)

	t.Run("photos stream in, then the page reopens complete", func(t *testing.T) {
		// An outage of the provider holds the photos at 20 for 1.5 s: the page says so.
		f := &fakeAPI{dropAfter: 10, stallAt: 20, stall: 1500 * time.Millisecond}
		srv := site(t, spec, photos, f)
		p := browser.Page{Token: f.token, Rise: true, Viewer: true}
		if shot := os.Getenv("PHOTOGEN_SCREENSHOT"); shot != "" {
			if !filepath.IsAbs(shot) {
				shot = filepath.Join(repoRoot, shot)
			}
			p.Screenshot = shot
		}
		res := drive(t, chromium, srv.URL, p)
		require.Equal(t, "completed", res.State)
		require.Equal(t, "Completed: all 30 photos are ready", res.StateText)
		require.Equal(t, 30, res.Loaded)
		require.True(t, anyMatch(res.Texts, `^Generating: ([1-9]|1\d|2[0-9]) of 30$`), "saw %q", res.Texts)
		require.True(t, anyMatch(res.Texts, `^Delayed: 20 of 30$`), "the outage shows: saw %q", res.Texts)
		require.True(t, anyMatch(res.Texts, `^Generating: 2[1-9] of 30$`), "and ends: saw %q", res.Texts)

		f.mu.Lock()
		ids := f.lastEventIDs
		f.mu.Unlock()
		require.GreaterOrEqual(t, len(ids), 2, "the first stream was dropped after 10 photos: the page must reconnect")
		require.Regexp(t, `^\d+$`, ids[1], "the reconnection sends Last-Event-ID")
		n, _ := strconv.Atoi(ids[1])
		require.GreaterOrEqual(t, n, 10)

		again := drive(t, chromium, srv.URL, browser.Page{Token: f.token, AtOnce: true})
		require.Equal(t, []int{30}, again.Counts)
	})

	t.Run("an unknown token shows that the link is not valid", func(t *testing.T) {
		srv := site(t, spec, photos, &fakeAPI{})
		res := drive(t, chromium, srv.URL, browser.Page{Invalid: true, Token: newToken(t),
			AllowHTTPErrors: []string{"/api/blueprint/status"}})
		require.Equal(t, "This link is not valid", res.StateText)
	})

	t.Run("a link without a token shows that the link is not valid", func(t *testing.T) {
		srv := site(t, spec, photos, &fakeAPI{})
		res := drive(t, chromium, srv.URL, browser.Page{Invalid: true})
		require.Equal(t, "This link is not valid", res.StateText)
	})

	t.Run("without the events endpoint the page polls the status", func(t *testing.T) {
		// Slower photos, so that polls every 2 s see the count between 0 and 30.
		f := &fakeAPI{noEvents: true, step: 150 * time.Millisecond}
		srv := site(t, spec, photos, f)
		res := drive(t, chromium, srv.URL, browser.Page{Token: f.token, Rise: true,
			AllowHTTPErrors: []string{"/api/blueprint/events"}})
		require.Equal(t, "completed", res.State)
		require.Equal(t, 30, res.Loaded)
		f.mu.Lock()
		defer f.mu.Unlock()
		require.Equal(t, 1, f.streams, "one try of the stream, then polling")
		require.Positive(t, f.conditional, "polls send If-None-Match")
	})
}

func anyMatch(texts []string, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, s := range texts {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
