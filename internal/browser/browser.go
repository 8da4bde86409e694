// Package browser drives the subscriber's page in a real headless Chromium for tests:
// Chromium finds or installs the browser (internal/dev/browser.sh, Debian's chromium),
// and Open drives it over the DevTools protocol with chromedp, all in Go, and returns
// what a person would have seen. The web and e2e page tests share it.
package browser

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The waits inside one Open, shared by every page test. The whole run has the caller's
// timeout; these bound the steps that follow the page's own progress.
const (
	// lazyImagesWait is how long the images below the fold get to load once scrolled to.
	lazyImagesWait = 5 * time.Second
	// viewerWait is how long the full-size viewer gets to open and show its photo.
	viewerWait = 5 * time.Second
	// focusWait is how long the viewer's close event gets to move the focus back.
	focusWait = 2 * time.Second
	// pollEvery is how often the page's state is read while waiting.
	pollEvery = 50 * time.Millisecond
	// launchGrace is what the browser gets beyond the caller's timeout to start and to
	// report what it saw.
	launchGrace = time.Minute
	// installWait bounds internal/dev/browser.sh, which may run apt-get.
	installWait = 10 * time.Minute
)

// Page is what Open expects of the page, and how it drives it. The zero value expects
// the 30 photos of a completed generation.
type Page struct {
	// Token is put in the link's fragment (/#token=...); empty opens a link without one.
	Token string
	// Invalid expects the "This link is not valid" message instead of photos.
	Invalid bool
	// Photos is how many images must be shown and loaded at the end (0 means 30).
	Photos int
	// State is the final state expected (empty means "completed").
	State string
	// Rise requires an intermediate count (between 0 and Photos) to have been shown.
	Rise bool
	// AtOnce requires the first state shown to have all the photos already.
	AtOnce bool
	// Viewer checks the full-size viewer with the keyboard: Tab to photo 1, Enter,
	// ArrowRight, Escape, and the focus back on photo 2.
	Viewer bool
	// AllowHTTPErrors are URL paths whose HTTP error status is expected (and so is
	// Chromium's console error "Failed to load resource" about them).
	AllowHTTPErrors []string
	// Screenshot, when set, is the file a full-page PNG is saved to once the page has
	// settled (before the viewer check moves the focus).
	Screenshot string
}

// Result is what the page showed, and what went wrong.
type Result struct {
	// OK is true when every expectation held and nothing went wrong.
	OK bool
	// State is the page's data-state at the end; StateText its heading (or the
	// heading of the "not valid" notice).
	State, StateText string
	// Texts are the distinct state headings in the order shown; Counts the distinct
	// photo counts in the order shown (the loading state left out).
	Texts  []string
	Counts []int
	// Images is how many images the grid had at the end, Loaded how many had loaded.
	Images, Loaded int
	// Problems says what failed: expectations, console errors, uncaught page errors,
	// failed requests and HTTP errors (except the allowed ones), broken images.
	Problems []string
	// Elapsed is how long the run took, browser start included.
	Elapsed time.Duration
}

// dir is this package's directory; internal/dev is beside it.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Chromium runs internal/dev/browser.sh, which finds or installs Chromium (Debian's
// package, with apt), and returns its path. It fails t when Chromium cannot be had: a
// page test never skips.
func Chromium(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), installWait)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(dir(), "..", "dev", "browser.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("internal/dev/browser.sh could not provide Chromium (%v); the page tests need it:\n%s", err, stderr.String())
	}
	path := strings.TrimSpace(stdout.String())
	if path == "" {
		t.Fatalf("browser.sh printed no path:\n%s", stderr.String())
	}
	return path
}

// Open starts chromium (headless, a fresh profile), opens the page at base as p says,
// waits for what p expects for at most timeout, and returns what it saw. A page that
// failed its expectations fails t (t.Errorf). It never calls t.FailNow, so it may run in
// a goroutine of its own.
func Open(t testing.TB, chromium, base string, timeout time.Duration, p Page) Result {
	t.Helper()
	if p.Photos == 0 {
		p.Photos = 30
	}
	if p.State == "" {
		p.State = "completed"
	}
	started := time.Now()
	res := drive(chromium, base, timeout, p)
	res.Elapsed = time.Since(started)
	res.OK = len(res.Problems) == 0
	t.Logf("browser %s: ok=%v state=%s counts=%v texts=%q in %s", p, res.OK, res.State, res.Counts, res.Texts, res.Elapsed.Round(time.Millisecond))
	if !res.OK {
		t.Errorf("the page failed in Chromium:\n  %s", strings.Join(res.Problems, "\n  "))
	}
	return res
}

// String names what p asks for, for the log.
func (p Page) String() string {
	var b strings.Builder
	b.WriteString("photos")
	if p.Invalid {
		b.Reset()
		b.WriteString("invalid")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{p.Token != "", "token"}, {p.Rise, "rise"}, {p.AtOnce, "at-once"}, {p.Viewer, "viewer"}, {p.Screenshot != "", "screenshot"}} {
		if f.on {
			b.WriteString(" +" + f.name)
		}
	}
	return b.String()
}

// flags are Chromium's command-line flags beyond its path and profile. Running as root
// needs --no-sandbox; the machine may have no network, and Chromium's own background
// traffic (updates, sync, safe browsing) would only flood it with refused connections.
var flags = []chromedp.ExecAllocatorOption{
	chromedp.Headless,
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
	chromedp.NoDefaultBrowserCheck,
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-breakpad", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-client-side-phishing-detection", true),
	chromedp.Flag("metrics-recording-only", true),
	chromedp.Flag("password-store", "basic"),
	chromedp.Flag("use-mock-keychain", true),
}

// viewport is the window every page test sees: a desktop, one CSS pixel per pixel.
const viewportWidth, viewportHeight = 1200, 900

// drive runs one page visit in a Chromium of its own, with a fresh profile removed
// afterwards, and returns what it saw; a browser that fails is a problem in the result.
func drive(chromium, base string, timeout time.Duration, p Page) Result {
	profile, err := os.MkdirTemp("", "photogen-chromium-")
	if err != nil {
		return Result{Problems: []string{"profile directory: " + err.Error()}}
	}
	defer os.RemoveAll(profile)

	ctx, cancel := context.WithTimeout(context.Background(), timeout+launchGrace)
	defer cancel()
	opts := append(slices.Clone(flags), chromedp.ExecPath(chromium), chromedp.UserDataDir(profile),
		chromedp.WindowSize(viewportWidth, viewportHeight))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	rec := &recorder{allowed: p.AllowHTTPErrors, urls: map[network.RequestID]string{}}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.on))
	defer cancelTab()

	v := &visit{ctx: tabCtx, p: p, deadline: time.Now().Add(timeout)}
	if err := v.setUp(); err != nil {
		v.problem("driver: start Chromium: %v", err)
	} else if err := v.run(base); err != nil {
		v.problem("driver: %v", err)
	}
	// What the page did wrong is taken before the tab closes: closing aborts the
	// requests still open (the event stream), which is no fault of the page.
	v.res.Problems = append(v.res.Problems, rec.problems()...)
	return v.res
}

// setUp starts the browser and gives the tab the viewport and media every test sees.
func (v *visit) setUp() error {
	return chromedp.Do(v.ctx,
		chromedp.EmulateViewport(viewportWidth, viewportHeight),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{
					{Name: "prefers-color-scheme", Value: "light"},
					{Name: "prefers-reduced-motion", Value: "reduce"},
				},
			})
			return err
		}),
	)
}
