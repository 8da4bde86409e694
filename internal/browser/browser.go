// Package browser drives the subscriber's page in a real headless Chromium for tests:
// Chromium finds or installs the browser (internal/dev/browser.sh), and Open runs page.mjs
// (playwright-core) against a page and returns what a person would have seen.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Result is the JSON line page.mjs prints: what the page showed, and what went wrong.
type Result struct {
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

// dir is this package's directory, where page.mjs is; internal/dev is beside it.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Chromium runs internal/dev/browser.sh, which finds or installs Chromium and
// playwright-core, and returns Chromium's path. It fails t when they cannot be had: a
// page test never skips.
func Chromium(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(dir(), "..", "dev", "browser.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("internal/dev/browser.sh could not provide Chromium and playwright-core (%v); the page tests need them:\n%s", err, stderr.String())
	}
	path := strings.TrimSpace(stdout.String())
	if path == "" {
		t.Fatalf("browser.sh printed no path:\n%s", stderr.String())
	}
	return path
}

// Open runs page.mjs with args against the page at base in chromium, giving the driver
// timeout, and returns what it saw; a page that failed its expectations fails t. It never
// calls t.FailNow, so it may run in a goroutine of its own.
func Open(t testing.TB, chromium, base string, timeout time.Duration, args ...string) Result {
	t.Helper()
	// The process gets a minute beyond the driver's own timeout, to report what it saw.
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	args = append([]string{filepath.Join(dir(), "page.mjs"), "--base", base, "--chromium", chromium,
		"--timeout", strconv.FormatInt(timeout.Milliseconds(), 10)}, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res Result
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
