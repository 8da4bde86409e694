// This file is one visit of the subscriber's page: open the link, follow what the page
// shows until it settles, check it as a person would see it, and optionally use the
// full-size viewer with the keyboard and save a screenshot.

package browser

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// visit is one Open's state: the tab, what it expects, its deadline and its result.
type visit struct {
	ctx      context.Context
	p        Page
	deadline time.Time
	res      Result
}

// problem records an expectation that did not hold.
func (v *visit) problem(format string, args ...any) {
	v.res.Problems = append(v.res.Problems, fmt.Sprintf(format, args...))
}

// snapshot is what a person sees on the page, plus its data attributes.
type snapshot struct {
	State    string   `json:"state"`
	Text     string   `json:"text"`
	Photos   int      `json:"photos"`
	Loaded   int      `json:"loaded"`
	Broken   []string `json:"broken"`
	Alts     []string `json:"alts"`
	Invalid  *string  `json:"invalid"`
	Progress int      `json:"progress"`
	Live     int      `json:"live"`
}

// snapshotJS reads a snapshot in the page.
const snapshotJS = `(() => {
  const main = document.getElementById('main');
  const imgs = [...document.querySelectorAll('#photos img')];
  const invalid = document.getElementById('invalid');
  const shown = invalid && !invalid.hidden;
  return {
    state: main.dataset.state,
    text: (shown ? invalid.querySelector('h2') : document.getElementById('state')).textContent.trim(),
    photos: imgs.length,
    loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
    broken: imgs.filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.alt),
    alts: imgs.map((i) => i.alt),
    invalid: shown ? invalid.textContent.replace(/\s+/g, ' ').trim() : null,
    progress: Number(document.getElementById('progress').value),
    live: document.querySelectorAll('[aria-live]').length,
  };
})()`

// read takes a snapshot.
func (v *visit) read() (snapshot, error) {
	return chromedp.Run(v.ctx, chromedp.Evaluate[snapshot](snapshotJS))
}

// run opens the link and checks the page as p says.
func (v *visit) run(base string) error {
	link := base + "/"
	if v.p.Token != "" {
		link += "#token=" + url.QueryEscape(v.p.Token)
	}
	navCtx, cancel := context.WithDeadline(v.ctx, v.deadline)
	defer cancel()
	if err := chromedp.Do(navCtx, chromedp.Navigate(link)); err != nil {
		return fmt.Errorf("open %s: %w", link, err)
	}
	if v.p.Invalid {
		return v.checkInvalid()
	}
	return v.checkPhotos()
}

// waitFor reads the page every pollEvery until done holds or the deadline passes,
// recording each new state heading and photo count shown; it returns the last snapshot.
func (v *visit) waitFor(done func(snapshot) bool) (snapshot, error) {
	var last snapshot
	for {
		s, err := v.read()
		if err != nil {
			return last, err
		}
		last = s
		if s.State != "loading" {
			if n := len(v.res.Counts); n == 0 || v.res.Counts[n-1] != s.Photos {
				v.res.Counts = append(v.res.Counts, s.Photos)
			}
			if n := len(v.res.Texts); n == 0 || v.res.Texts[n-1] != s.Text {
				v.res.Texts = append(v.res.Texts, s.Text)
			}
		}
		if done(s) {
			return s, nil
		}
		if time.Now().After(v.deadline) {
			v.problem("timed out; last seen: %+v", s)
			return s, nil
		}
		time.Sleep(pollEvery)
	}
}

// checkInvalid expects the "This link is not valid" message and no photo.
func (v *visit) checkInvalid() error {
	s, err := v.waitFor(func(s snapshot) bool { return s.Invalid != nil })
	if err != nil {
		return err
	}
	v.res.State, v.res.StateText = s.State, s.Text
	if s.Invalid == nil || !strings.Contains(*s.Invalid, "This link is not valid") {
		v.problem(`no "This link is not valid" message`)
	}
	if s.Photos > 0 {
		v.problem("%d photos shown for a link that is not valid", s.Photos)
	}
	return v.screenshot()
}

// terminal are the states after which the page changes no more.
var terminal = []string{"completed", "failed", "refunded"}

// checkPhotos waits for the expected state with every photo loaded, then checks the
// page, the counts it showed, and optionally the viewer.
func (v *visit) checkPhotos() error {
	want := v.p.Photos
	s, err := v.waitFor(func(s snapshot) bool {
		return s.State == v.p.State && s.Photos == want && s.Loaded == want ||
			len(s.Broken) > 0 || s.Invalid != nil || (s.State != v.p.State && slices.Contains(terminal, s.State))
	})
	if err != nil {
		return err
	}
	if s.Photos == want && s.Loaded < want {
		if s, err = v.loadBelowTheFold(); err != nil {
			return err
		}
	}
	v.res.State, v.res.StateText, v.res.Images, v.res.Loaded = s.State, s.Text, s.Photos, s.Loaded
	v.checkSettled(s)
	v.checkCounts()
	// The screenshot shows the page as it first settles, before the viewer moves the focus.
	if err := v.screenshot(); err != nil {
		return err
	}
	if v.p.Viewer {
		return v.checkViewer()
	}
	return nil
}

// loadBelowTheFold scrolls down as a person would, so that lazy images load, waits for
// them, scrolls back up and returns a new snapshot.
func (v *visit) loadBelowTheFold() (snapshot, error) {
	if err := chromedp.Do(v.ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.body.scrollHeight)`)); err != nil {
		return snapshot{}, err
	}
	loaded := fmt.Sprintf(`[...document.querySelectorAll('#photos img')].filter((i) => i.naturalWidth > 0).length === %d`, v.p.Photos)
	if _, err := v.until(loaded, lazyImagesWait); err != nil {
		return snapshot{}, err
	}
	if err := chromedp.Do(v.ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		return snapshot{}, err
	}
	return v.read()
}

// checkSettled checks the page once it has settled on the expected state.
func (v *visit) checkSettled(s snapshot) {
	want := v.p.Photos
	if s.Invalid != nil {
		v.problem("the page says the link is not valid: %s", *s.Invalid)
	}
	if s.State != v.p.State {
		v.problem("state %s, want %s", s.State, v.p.State)
	}
	if s.Photos != want {
		v.problem("%d images, want %d", s.Photos, want)
	}
	if s.Loaded != want {
		v.problem("%d of %d images loaded; broken: %s", s.Loaded, s.Photos, strings.Join(s.Broken, ", "))
	}
	wantAlts := make([]string, want)
	for i := range wantAlts {
		wantAlts[i] = fmt.Sprintf("Photo %d of %d", i+1, want)
	}
	if !slices.Equal(s.Alts, wantAlts) {
		v.problem("alt texts %q..., want %q...", s.Alts[:min(3, len(s.Alts))], wantAlts[:min(3, want)])
	}
	if s.Progress != want {
		v.problem("progress value %d, want %d", s.Progress, want)
	}
	if s.Live < 1 {
		v.problem("no aria-live region")
	}
}

// checkCounts checks the photo counts the page showed along the way.
func (v *visit) checkCounts() {
	counts, want := v.res.Counts, v.p.Photos
	for i := 1; i < len(counts); i++ {
		if counts[i] < counts[i-1] {
			v.problem("the count went down: %v", counts)
			break
		}
	}
	if v.p.Rise && !slices.ContainsFunc(counts, func(c int) bool { return c > 0 && c < want }) {
		v.problem("the count was never seen rising: %v", counts)
	}
	if v.p.AtOnce && (len(counts) == 0 || counts[0] != want) {
		v.problem("the counts shown were %v, want all %d at once", counts, want)
	}
}

// screenshot saves a full-page PNG when the visit asks for one.
func (v *visit) screenshot() error {
	if v.p.Screenshot == "" {
		return nil
	}
	png, err := chromedp.Run(v.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return os.WriteFile(v.p.Screenshot, png, 0o644)
}

// checkViewer is a keyboard user: Tab to the first photo, Enter, ArrowRight, Escape.
func (v *visit) checkViewer() error {
	want := v.p.Photos
	focusedAlt := `document.activeElement?.querySelector('img')?.alt ?? null`
	for range 15 {
		if err := chromedp.Do(v.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			return err
		}
		thumb, err := chromedp.Run(v.ctx, chromedp.Evaluate[bool](`!!document.activeElement?.classList.contains('thumb')`))
		if err != nil {
			return err
		}
		if thumb {
			break
		}
	}
	focused, err := chromedp.Run(v.ctx, chromedp.Evaluate[*string](focusedAlt))
	if err != nil {
		return err
	}
	if photo := fmt.Sprintf("Photo 1 of %d", want); focused == nil || *focused != photo {
		v.problem("Tab did not reach photo 1 (focus on %s)", deref(focused))
		return nil
	}
	if err := chromedp.Do(v.ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		return err
	}
	opened := `(() => { const img = document.getElementById('viewer-img');
	  return document.getElementById('viewer').open && img.complete && img.naturalWidth > 0; })()`
	if ok, err := v.until(opened, viewerWait); err != nil {
		return err
	} else if !ok {
		v.problem("Enter did not open photo 1 full size")
	}
	if err := v.expectTitle(1); err != nil {
		return err
	}
	if err := chromedp.Do(v.ctx, chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		return err
	}
	if err := v.expectTitle(2); err != nil {
		return err
	}
	return v.closeViewer()
}

// closeViewer presses Escape and expects the viewer closed and the focus on photo 2.
func (v *visit) closeViewer() error {
	if err := chromedp.Do(v.ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		return err
	}
	// The dialog's close event, which moves the focus to the photo last shown, is a task
	// of its own: wait for it rather than race it.
	photo2 := fmt.Sprintf("Photo 2 of %d", v.p.Photos)
	if _, err := v.until(fmt.Sprintf(`document.activeElement?.querySelector('img')?.alt === %q`, photo2), focusWait); err != nil {
		return err
	}
	after, err := chromedp.Run(v.ctx, chromedp.Evaluate[struct {
		Open  bool    `json:"open"`
		Focus *string `json:"focus"`
	}](`({ open: document.getElementById('viewer').open, focus: document.activeElement?.querySelector('img')?.alt ?? null })`))
	if err != nil {
		return err
	}
	if after.Open {
		v.problem("Escape did not close the viewer")
	}
	if after.Focus == nil || *after.Focus != photo2 {
		v.problem("focus after Escape on %s, want photo 2", deref(after.Focus))
	}
	return nil
}

// expectTitle checks that the open viewer shows photo n.
func (v *visit) expectTitle(n int) error {
	title, err := chromedp.Run(v.ctx, chromedp.Evaluate[*string](
		`document.getElementById('viewer').open ? document.getElementById('viewer-title').textContent : null`))
	if err != nil {
		return err
	}
	if want := fmt.Sprintf("Photo %d of %d", n, v.p.Photos); title == nil || *title != want {
		v.problem("viewer title %s, want %q", deref(title), want)
	}
	return nil
}

// until evaluates the boolean expression js every pollEvery until it holds (true) or
// wait passes (false).
func (v *visit) until(js string, wait time.Duration) (bool, error) {
	end := time.Now().Add(wait)
	for {
		ok, err := chromedp.Run(v.ctx, chromedp.Evaluate[bool](js))
		if err != nil || ok {
			return ok, err
		}
		if time.Now().After(end) {
			return false, nil
		}
		time.Sleep(pollEvery)
	}
}

// deref shows a string the page may not have had.
func deref(s *string) string {
	if s == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q", *s)
}
