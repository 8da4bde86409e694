package e2e

// The subscriber's page against a real generation: the api and a worker process with their
// defaults, the fake Replicate over HTTP, and the page in a real headless Chromium driven by
// internal/browser/page.mjs. internal/dev/browser.sh finds or installs Chromium and
// playwright-core; when it cannot, the test fails (it never skips). PHOTOGEN_SCREENSHOT
// (relative to the repository's root, as in web/page_test.go) saves the completed page:
//
//	PHOTOGEN_SCREENSHOT=docs/page.png go test -race -run TestPageOfARealGeneration ./internal/e2e/

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
)

// repoRoot is the repository's root, seen from this package's directory (where go test runs).
const repoRoot = "../.."

// pageResult is the JSON line page.mjs prints.
type pageResult struct {
	OK        bool     `json:"ok"`
	State     string   `json:"state"`
	StateText string   `json:"stateText"`
	Texts     []string `json:"texts"`
	Counts    []int    `json:"counts"`
	Images    int      `json:"images"`
	Loaded    int      `json:"loaded"`
	Problems  []string `json:"problems"`
	ElapsedMS int      `json:"elapsedMs"`
}

// chromiumPath runs internal/dev/browser.sh and returns Chromium's path.
func chromiumPath(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "internal", "dev", "browser.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("internal/dev/browser.sh could not provide Chromium and playwright-core (%v); the page test needs them:\n%s", err, stderr.String())
	}
	path := strings.TrimSpace(stdout.String())
	require.NotEmpty(t, path, "browser.sh printed no path:\n%s", stderr.String())
	return path
}

// openPage runs page.mjs against base with args, and returns what it saw; an expectation
// that did not hold fails t. It may run in a goroutine of its own: it never calls t.FailNow.
func openPage(t *testing.T, chromium, base string, args ...string) pageResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The driver's timeout is generous: a run takes 10-20 s (the generation's own time), and
	// more only on a machine too loaded to run Chromium and the race-built processes.
	args = append([]string{filepath.Join(repoRoot, "internal", "browser", "page.mjs"),
		"--base", base, "--chromium", chromium, "--timeout", "120000"}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res pageResult
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil {
		t.Errorf("page.mjs printed no result (%v, %v):\nstdout: %s\nstderr: %s", err, jerr, stdout.String(), stderr.String())
		return res
	}
	t.Logf("page.mjs %s: ok=%v state=%s counts=%v texts=%q in %d ms", strings.Join(args[7:], " "), res.OK, res.State, res.Counts, res.Texts, res.ElapsedMS)
	if !res.OK || err != nil {
		t.Errorf("the page failed in Chromium (%v):\n  %s\nstderr: %s", err, strings.Join(res.Problems, "\n  "), stderr.String())
	}
	return res
}

// TestPageOfARealGeneration: a new subscriber opens their page, pays, and watches the count
// rise and the grid fill with 30 photos that load, with no console error; the page opened
// again after completion shows the 30 photos at once; a token of no one shows that the link
// is not valid.
func TestPageOfARealGeneration(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
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
	polls := regexp.MustCompile(`"route":"/api/blueprint/status"`)
	before := len(polls.FindAllString(api.Output(), -1))
	args := []string{"--token", sub.AccessToken, "--rise", "--viewer"}
	if shot := os.Getenv("PHOTOGEN_SCREENSHOT"); shot != "" {
		if !filepath.IsAbs(shot) {
			shot = filepath.Join(repoRoot, shot)
		}
		args = append(args, "--screenshot", shot)
	}
	done := make(chan pageResult, 1)
	go func() { done <- openPage(t, chromium, c.BaseURL, args...) }()
	require.Eventually(t, func() bool { return len(polls.FindAllString(api.Output(), -1)) > before },
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
	require.LessOrEqual(t, len(polls.FindAllString(api.Output(), -1))-before, 2, "the page polled the status while it streamed")
	require.Equal(t, "Completed: all 30 photos are ready", res.StateText)
	require.Equal(t, 30, res.Loaded)
	require.True(t, matchesAny(res.Texts, `^Generating: ([1-9]|1\d|2[0-9]) of 30$`), "saw %q", res.Texts)

	st := waitState(t, c, sub.AccessToken, "completed", 10*time.Second)
	for _, u := range st.PhotoURLs {
		require.True(t, strings.HasPrefix(u, c.BaseURL+"/photos/"), "the photos are the api's: %s", u)
	}

	again := openPage(t, chromium, c.BaseURL, "--token", sub.AccessToken, "--at-once")
	require.Equal(t, []int{30}, again.Counts)
	require.Equal(t, 30, again.Loaded)

	bad := openPage(t, chromium, c.BaseURL, "--mode", "invalid", "--token", strings.Repeat("x", 43),
		"--allow-http-error", "/api/blueprint/status")
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
