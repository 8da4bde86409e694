package fakereplicate

// This file serves prediction outputs, as replicate.delivery would: small real PNGs.

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"
)

// handleFile serves GET /files/{id}/{n}.png: a 64x64 PNG filled with a colour derived
// from the prediction id and n. It answers 404 when the prediction is unknown, has not
// succeeded, has had its data removed, or has no output n. No credential is needed.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	num, isPNG := strings.CutSuffix(r.PathValue("file"), ".png")
	n, err := strconv.Atoi(num)
	s.mu.Lock()
	p, ok := s.preds[id]
	servable := ok && p.status == statusSucceeded && !p.dataRemoved && !p.missingFile && n >= 0 && n < p.outputs
	bad := ok && p.badOutput
	s.mu.Unlock()
	if !servable || !isPNG || err != nil {
		http.NotFound(w, r)
		return
	}
	if bad {
		w.Header().Set("Content-Type", "image/png") // a lie: the body is a web page
		_, _ = w.Write([]byte("<!doctype html><html><body>Service temporarily unavailable</body></html>"))
		return
	}
	body, err := pngFor(id + "/" + num)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(body)
}

// pngFor encodes a 64x64 PNG filled with a colour derived from key.
func pngFor(key string) ([]byte, error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	v := h.Sum32()
	c := color.RGBA{R: uint8(v), G: uint8(v >> 8), B: uint8(v >> 16), A: 255}
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
