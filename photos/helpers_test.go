// This file holds the fixtures the storage tests share: real encoded images
// and a name secret.

package photos

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"
)

// testSecret returns a fresh NameSecret of MinSecretLen+16 bytes.
func testSecret() []byte {
	return []byte("0123456789abcdef-test-secret-32b")
}

// testImage returns a small image with a gradient, so encoders produce
// non-trivial output.
func testImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		for y := range 16 {
			img.Set(x, y, color.RGBA{R: uint8(x * 16), G: uint8(y * 16), B: 128, A: 255})
		}
	}
	return img
}

// pngBytes encodes testImage as PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, testImage()))
	return buf.Bytes()
}

// jpegBytes encodes testImage as JPEG.
func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, testImage(), nil))
	return buf.Bytes()
}

// gifBytes encodes testImage as GIF.
func gifBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gif.Encode(&buf, testImage(), nil))
	return buf.Bytes()
}
