package fakereplicate

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

// handleFile serves a prediction's output as a small real PNG whose colour depends on
// the prediction, or 404 when the prediction is unknown, unfinished or its data removed.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	s.mu.Lock()
	p, ok := s.preds[id]
	servable := ok && p.status == "succeeded" && !p.dataRemoved
	outputs := 0
	if ok {
		outputs = p.outputs
	}
	s.mu.Unlock()
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(file, "out-"), ".png"))
	if !servable || err != nil || n < 0 || n >= outputs {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(pngFor(id + file))
}

// pngFor draws a 64x64 PNG filled with a colour derived from key.
func pngFor(key string) []byte {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	v := h.Sum32()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	c := color.RGBA{R: uint8(v), G: uint8(v >> 8), B: uint8(v >> 16), A: 255}
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
