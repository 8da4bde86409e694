// This file derives object names from keys and maps image content types to
// file extensions; both stores and the Local handler share it.

package photos

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
)

// MinSecretLen is the shortest NameSecret that NewLocal and NewS3 accept.
const MinSecretLen = 16

// namePrefix is the folder every object name starts with.
const namePrefix = "photos/"

// nameHexLen is the number of hex digits of the HMAC kept in a name (128 bits).
const nameHexLen = 32

// ObjectName returns the name under which key is stored:
// "photos/" + the first 32 hex digits of HMAC-SHA256(secret, key) + an
// extension from contentType (".png", ".jpg", ".webp" or ".gif"; parameters
// such as "; charset=..." and letter case are ignored). It is a pure function:
// the same arguments always give the same name. For a content type that is not
// one of those four images the name has no extension; Put refuses such types.
func ObjectName(secret []byte, key, contentType string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(key)) // a hash.Hash never returns an error
	sum := hex.EncodeToString(mac.Sum(nil))[:nameHexLen]
	ext, _ := extension(contentType)
	return namePrefix + sum + ext
}

// extension returns the file extension for an image content type, and false
// when the type is not one that the stores keep. A switch rather than a map
// keeps the table free of package-level state.
func extension(contentType string) (string, bool) {
	mediaType, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case "image/png":
		return ".png", true
	case "image/jpeg":
		return ".jpg", true
	case "image/webp":
		return ".webp", true
	case "image/gif":
		return ".gif", true
	}
	return "", false
}

// contentTypeOf returns the content type for an extension produced by
// extension, and false for any other extension.
func contentTypeOf(ext string) (string, bool) {
	switch ext {
	case ".png":
		return "image/png", true
	case ".jpg":
		return "image/jpeg", true
	case ".webp":
		return "image/webp", true
	case ".gif":
		return "image/gif", true
	}
	return "", false
}

// validName reports whether name is exactly what ObjectName produces for a
// storable content type: "photos/", 32 lowercase hex digits, an extension.
// Nothing else — no other folder, no "..", no directory — is ever served.
func validName(name string) bool {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok || len(rest) <= nameHexLen {
		return false
	}
	for _, c := range rest[:nameHexLen] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	_, ok = contentTypeOf(rest[nameHexLen:])
	return ok
}

// checkSecret returns an error unless secret is at least MinSecretLen bytes.
func checkSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("name secret has %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	return nil
}

// checkBaseURL returns base without trailing slashes, or an error unless it is
// an absolute http or https URL with a host and no query or fragment. A
// public URL is then base + "/" + an object name.
func checkBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q: need an absolute http(s) URL without query or fragment", base)
	}
	return strings.TrimRight(base, "/"), nil
}
