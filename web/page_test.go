package web

// The page in a real browser: headless Chromium, driven by internal/browser/page.mjs, against
// Handler and fakeAPI. internal/dev/browser.sh finds or installs Chromium and playwright-core;
// when it cannot, the test fails (it never skips). PHOTOGEN_SCREENSHOT=docs/page.png (relative
// to the repository's root) saves the completed page.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/openapi/contract"
)

// driverResult is the JSON line page.mjs prints.
type driverResult struct {
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

// repoRoot is the repository's root, seen from this package's directory (where go test runs).
const repoRoot = ".."

// installBrowser runs internal/dev/browser.sh and returns Chromium's path.
func installBrowser(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "internal", "dev", "browser.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("internal/dev/browser.sh could not provide Chromium and playwright-core (%v); the page tests need them:\n%s", err, stderr.String())
	}
	path := strings.TrimSpace(stdout.String())
	require.NotEmpty(t, path, "browser.sh printed no path:\n%s", stderr.String())
	return path
}

// drive runs page.mjs with args against base and returns what it saw.
func drive(t *testing.T, chromium, base string, args ...string) driverResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The driver's own timeout is generous: it only matters on a machine too loaded to run
	// Chromium, and a run that passes takes 2-10 s.
	args = append([]string{filepath.Join(repoRoot, "internal", "browser", "page.mjs"),
		"--base", base, "--chromium", chromium, "--timeout", "40000"}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res driverResult
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil {
		t.Fatalf("page.mjs printed no result (%v, %v):\nstdout: %s\nstderr: %s", err, jerr, stdout.String(), stderr.String())
	}
	t.Logf("page.mjs %s: ok=%v state=%s counts=%v texts=%q in %d ms", strings.Join(args[7:], " "), res.OK, res.State, res.Counts, res.Texts, res.ElapsedMS)
	if !res.OK || err != nil {
		t.Errorf("the page failed in Chromium (%v):\n  %s\nstderr: %s", err, strings.Join(res.Problems, "\n  "), stderr.String())
	}
	return res
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
	chromium := installBrowser(t)
	spec, err := contract.NewValidator()
	require.NoError(t, err)
	photos := photoServer(t)

	t.Run("photos stream in, then the page reopens complete", func(t *testing.T) {
		f := &fakeAPI{dropAfter: 10}
		srv := site(t, spec, photos, f)
		args := []string{"--token", f.token, "--rise", "--viewer"}
		if shot := os.Getenv("PHOTOGEN_SCREENSHOT"); shot != "" {
			if !filepath.IsAbs(shot) {
				shot = filepath.Join(repoRoot, shot)
			}
			args = append(args, "--screenshot", shot)
		}
		res := drive(t, chromium, srv.URL, args...)
		require.Equal(t, "completed", res.State)
		require.Equal(t, "Completed: all 30 photos are ready", res.StateText)
		require.Equal(t, 30, res.Loaded)
		require.True(t, anyMatch(res.Texts, `^Generating: ([1-9]|1\d|2[0-9]) of 30$`), "saw %q", res.Texts)

		f.mu.Lock()
		ids := f.lastEventIDs
		f.mu.Unlock()
		require.GreaterOrEqual(t, len(ids), 2, "the first stream was dropped after 10 photos: the page must reconnect")
		require.Regexp(t, `^\d+$`, ids[1], "the reconnection sends Last-Event-ID")
		n, _ := strconv.Atoi(ids[1])
		require.GreaterOrEqual(t, n, 10)

		again := drive(t, chromium, srv.URL, "--token", f.token, "--at-once")
		require.Equal(t, []int{30}, again.Counts)
	})

	t.Run("an unknown token shows that the link is not valid", func(t *testing.T) {
		srv := site(t, spec, photos, &fakeAPI{})
		res := drive(t, chromium, srv.URL, "--mode", "invalid", "--token", newToken(t),
			"--allow-http-error", "/api/blueprint/status")
		require.Equal(t, "This link is not valid", res.StateText)
	})

	t.Run("a link without a token shows that the link is not valid", func(t *testing.T) {
		srv := site(t, spec, photos, &fakeAPI{})
		res := drive(t, chromium, srv.URL, "--mode", "invalid")
		require.Equal(t, "This link is not valid", res.StateText)
	})

	t.Run("without the events endpoint the page polls the status", func(t *testing.T) {
		// Slower photos, so that polls every 2 s see the count between 0 and 30.
		f := &fakeAPI{noEvents: true, step: 150 * time.Millisecond}
		srv := site(t, spec, photos, f)
		res := drive(t, chromium, srv.URL, "--token", f.token, "--rise", "--allow-http-error", "/api/blueprint/events")
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
