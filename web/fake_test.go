package web

// This file holds fakeAPI, the page tests' stand-in for photogen's status and events endpoints,
// following openapi/openapi.yaml (every answer it gives is checked against the document), and
// the small PNG photos it serves from a second origin.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/openapi/contract"
)

const targetPhotos = 30

// fakeAPI answers GET /api/blueprint/status and /api/blueprint/events for one subscriber whose
// generation starts at the first status request: queued for queuedFor, then one photo every
// step until targetPhotos (delayed by an outage of the provider for stall at stallAt photos,
// when stall is set), then completed. Its clock is the wall clock, so no goroutine drives
// it.
type fakeAPI struct {
	t         *testing.T
	spec      *contract.Validator
	token     string
	photoBase string        // where the photos are served, another origin than the page
	noEvents  bool          // the events endpoint answers 404, as a server without it would
	dropAfter int           // the first event stream ends, unfinished, after this many photos
	ping      time.Duration // between heartbeats
	queuedFor time.Duration
	step      time.Duration
	stallAt   int           // photos made when the outage begins
	stall     time.Duration // how long it lasts: the status shows the delay meanwhile

	mu           sync.Mutex
	start        time.Time
	streams      int
	lastEventIDs []string // the Last-Event-ID of each events request ("" when absent)
	conditional  int      // status requests with If-None-Match
}

func newToken(t *testing.T) string {
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// progress returns the state, the number of photos ready at now, and the delay (nil, or
// an outage of the provider during the stall).
func (f *fakeAPI) progress(now time.Time) (string, int, map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.start.IsZero() {
		f.start = now
	}
	e := now.Sub(f.start) - f.queuedFor
	if e < 0 {
		return "queued", 0, nil
	}
	if stalled := time.Duration(f.stallAt-1) * f.step; f.stall > 0 && e >= stalled {
		if e < stalled+f.stall {
			since := f.start.Add(f.queuedFor + stalled).UTC().Format(time.RFC3339)
			return "generating", f.stallAt, map[string]any{"reason": "provider_unavailable", "since": since}
		}
		e -= f.stall
	}
	n := min(targetPhotos, 1+int(e/f.step))
	if n == targetPhotos {
		return "completed", n, nil
	}
	return "generating", n, nil
}

func (f *fakeAPI) url(i int) string { return fmt.Sprintf("%s/photos/%d.png", f.photoBase, i) }

// authorize answers 401 or 404 as the document says and returns false, or returns true.
func (f *fakeAPI) authorize(w http.ResponseWriter, r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case !strings.EqualFold(scheme, "Bearer") || tok == "":
		writeError(w, http.StatusUnauthorized, "missing_token", "send the access token as Authorization: Bearer <token>")
	case tok != f.token:
		writeError(w, http.StatusNotFound, "not_found", "no subscriber has this access token")
	default:
		return true
	}
	return false
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// checked records the answer of h and checks it against the document before sending it on.
func (f *fakeAPI) checked(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		rec.Header().Set("X-Request-Id", "fake-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		h(rec, r)
		res := rec.Result()
		if err := f.spec.ValidateResponse(r, res); err != nil {
			f.t.Errorf("the fake broke the contract: %v", err)
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

func (f *fakeAPI) status(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("If-None-Match") != "" {
		f.mu.Lock()
		f.conditional++
		f.mu.Unlock()
	}
	if !f.authorize(w, r) {
		return
	}
	state, n, delay := f.progress(time.Now())
	urls := make([]string, n)
	for i := range urls {
		urls[i] = f.url(i + 1)
	}
	body, err := json.Marshal(map[string]any{"state": state, "paid": true, "totalPhotos": n,
		"targetPhotos": targetPhotos, "photoUrls": urls, "error": nil, "delay": delay,
		"updatedAt": f.start.Add(time.Duration(n) * f.step).UTC().Format(time.RFC3339)})
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, no-cache")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}

func (f *fakeAPI) events(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.streams++
	first := f.streams == 1
	f.lastEventIDs = append(f.lastEventIDs, r.Header.Get("Last-Event-ID"))
	f.mu.Unlock()
	if f.noEvents {
		f.checked(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
		})(w, r)
		return
	}
	if !f.authorize(w, r) {
		return
	}
	sent, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Request-Id", "fake-events")
	if err := f.spec.ValidateResponse(r, &http.Response{StatusCode: 200, Header: h.Clone(), Body: http.NoBody, Request: r}); err != nil {
		f.t.Errorf("the fake broke the contract: %v", err)
	}
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	send := func(event string, id int, data map[string]any) {
		b, err := json.Marshal(data)
		if err != nil {
			panic(err)
		}
		if err := f.spec.ValidateEvent(event, b); err != nil {
			f.t.Errorf("the fake broke the contract: %v", err)
		}
		fmt.Fprintf(w, "event: %s\nid: %d\ndata: %s\n\n", event, id, b)
	}
	fmt.Fprint(w, "retry: 300\n\n") // reconnect quickly after the deliberate drop
	flusher.Flush()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	lastPing := time.Now()
	lastState := ""
	for {
		state, n, delay := f.progress(time.Now())
		for sent < n {
			sent++
			send("photo", sent, map[string]any{"index": sent, "url": f.url(sent)})
			if first && f.dropAfter > 0 && sent >= f.dropAfter {
				flusher.Flush()
				return // a dropped connection: the page must come back with Last-Event-ID
			}
		}
		if s := fmt.Sprint(state, n, delay != nil); s != lastState {
			lastState = s
			send("state", n, map[string]any{"state": state, "totalPhotos": n, "targetPhotos": targetPhotos, "error": nil, "delay": delay})
		}
		if time.Since(lastPing) >= f.ping {
			fmt.Fprint(w, ": ping\n\n")
			lastPing = time.Now()
		}
		flusher.Flush()
		if state == "completed" {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
	}
}

// photoServer serves /photos/1.png ... /photos/30.png, small PNGs made here, on its own origin.
func photoServer(t *testing.T) *httptest.Server {
	photos := make(map[string][]byte, targetPhotos)
	for i := 1; i <= targetPhotos; i++ {
		photos[fmt.Sprintf("/photos/%d.png", i)] = drawPhoto(t, i)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := photos[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// drawPhoto makes photo i: a landscape in flat colours, a sun and two hills, its hue turning
// with i, so that the grid (and docs/page.png) shows 30 different small images.
func drawPhoto(t *testing.T, i int) []byte {
	const size = 240
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	hue := float64(i*12%360) / 360
	sky, sun := hsv(hue, 0.35, 0.95), hsv(hue+0.1, 0.55, 1)
	near, far := hsv(hue+0.45, 0.6, 0.45), hsv(hue+0.4, 0.45, 0.65)
	sunX, sunY := 60+(i*37)%120, 55+(i*23)%40
	for y := range size {
		for x := range size {
			c := sky
			dx, dy := x-sunX, y-sunY
			switch {
			case y > 150+abs(x-size*2/3)/2 || y > 200:
				c = near
			case y > 120+abs(x-size/4)*2/3:
				c = far
			case dx*dx+dy*dy < 24*24:
				c = sun
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// hsv converts a hue (turns, wrapped), saturation and value to a colour.
func hsv(h, s, v float64) color.NRGBA {
	h -= float64(int(h))
	i := int(h * 6)
	f := h*6 - float64(i)
	p, q, u := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	var r, g, b float64
	switch i % 6 {
	case 0:
		r, g, b = v, u, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, u
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = u, p, v
	default:
		r, g, b = v, p, q
	}
	return color.NRGBA{uint8(r * 255), uint8(g * 255), uint8(b * 255), 255}
}
