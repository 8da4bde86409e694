package e2e

// The subscriber's page against a real generation: the api and a worker process with their
// defaults, the fake Replicate over HTTP, and the page in a real headless Chromium driven by
// internal/browser (chromedp). internal/dev/browser.sh finds or installs Chromium; when it
// cannot, the test fails (it never skips). PHOTOGEN_SCREENSHOT
// (relative to the repository's root, as in web/page_test.go) saves the completed page:
//
//	PHOTOGEN_SCREENSHOT=docs/page.png go test -race -run TestPageOfARealGeneration ./internal/e2e/

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/browser"
	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// repoRoot is the repository's root, seen from this package's directory (where go test runs).
const repoRoot = "../.."

// openPage opens the page at base in Chromium as p says (see internal/browser); the
// driver's timeout is generous: a run takes 10-20 s (the generation's own time), and more
// only on a machine too loaded to run Chromium and the race-built processes.
func openPage(t *testing.T, chromium, base string, p browser.Page) browser.Result {
	t.Helper()
	return browser.Open(t, chromium, base, 2*time.Minute, p)
}

// TestPageOfARealGeneration: a new subscriber opens their page, pays, and watches the count
// rise and the grid fill with 30 photos that load, with no console error; the page opened
// again after completion shows the 30 photos at once; a token of no one shows that the link
// is not valid.
func TestPageOfARealGeneration(t *testing.T) {
	t.Parallel()
	chromium := browser.Chromium(t)
	// The fake's predictions take 1-1.5 s, as in `make run`, so that the generation lasts
	// long enough (about 10 s) for the page to be seen between 0 and 30. photogen itself
	// runs with its defaults.
	s := newStack(t, fakereplicate.Config{Latency: time.Second, Jitter: 500 * time.Millisecond}, nil)
	api, c := s.startAPI(t)
	s.startWorker(t)
	ctx := context.Background()

	own := fromOwnAddress(t, c)
	sub, err := own.CreateSubscriber(ctx, "page@example.com", "a lighthouse at dusk, in watercolour")
	require.NoError(t, err)

	// Open the page before paying, and pay once it has asked for the status: the page sees
	// the whole generation, from awaiting payment to completed.
	// The page's status requests, as the api's metrics count them (a successful poll's log
	// line is written at debug only).
	apiMetrics := "http://" + s.env["METRICS_ADDR"]
	polls := func() float64 {
		return scrape(t, apiMetrics)[`photogen_http_request_duration_seconds_count{method="GET",route="/api/blueprint/status"}`]
	}
	before := polls()
	p := browser.Page{Token: sub.AccessToken, Rise: true, Viewer: true}
	if shot := os.Getenv("PHOTOGEN_SCREENSHOT"); shot != "" {
		if !filepath.IsAbs(shot) {
			shot = filepath.Join(repoRoot, shot)
		}
		p.Screenshot = shot
	}
	done := make(chan browser.Result, 1)
	go func() { done <- openPage(t, chromium, c.BaseURL, p) }()
	require.Eventually(t, func() bool { return polls() > before },
		2*time.Minute, 50*time.Millisecond, "the page never asked for the status")
	resp, err := c.SendWebhook(ctx, webhookSecret, demo.CheckoutCompleted("evt_page_1", sub.SubscriberID, "page@example.com"), time.Now())
	require.NoError(t, err)
	require.Equal(t, 200, resp.Status, "%s", resp.Body)

	res := <-done
	require.Equal(t, "completed", res.State)
	// The page followed the generation on the event stream, not by polling the status
	// every 2 s: its first status, then at most a catch-up after the stream.
	// The stream's request is logged when it ends, just after the page saw completed.
	require.Eventually(t, func() bool { return strings.Contains(api.Output(), `"route":"/api/blueprint/events"`) },
		10*time.Second, 50*time.Millisecond, "the page never opened the event stream")
	require.LessOrEqual(t, polls()-before, 2.0, "the page polled the status while it streamed")
	require.Equal(t, "Completed: all 30 photos are ready", res.StateText)
	require.Equal(t, 30, res.Loaded)
	require.True(t, matchesAny(res.Texts, `^Generating: ([1-9]|1\d|2[0-9]) of 30$`), "saw %q", res.Texts)

	st := waitState(t, c, sub.AccessToken, "completed", 10*time.Second)
	for _, u := range st.PhotoURLs {
		require.True(t, strings.HasPrefix(u, c.BaseURL+"/photos/"), "the photos are the api's: %s", u)
	}

	again := openPage(t, chromium, c.BaseURL, browser.Page{Token: sub.AccessToken, AtOnce: true})
	require.Equal(t, []int{30}, again.Counts)
	require.Equal(t, 30, again.Loaded)

	bad := openPage(t, chromium, c.BaseURL, browser.Page{Invalid: true, Token: strings.Repeat("x", 43),
		AllowHTTPErrors: []string{"/api/blueprint/status"}})
	require.Equal(t, "This link is not valid", bad.StateText)
}

func matchesAny(texts []string, pattern string) bool {
	re := regexp.MustCompile(pattern)
	for _, s := range texts {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
