// This file refuses, before any JSON is decoded, the text PostgreSQL cannot store:
// invalid UTF-8, NUL (raw or escaped as \u0000) and UTF-16 surrogate escapes without
// their pair. encoding/json would quietly turn the first and the last into U+FFFD; the
// NUL would reach the database and fail there.

package api

import (
	"unicode/utf8"
)

// checkJSONText returns a 400 *Error for a body with text PostgreSQL refuses, and nil
// otherwise. It does not validate the JSON itself: decoding does, after it.
func checkJSONText(b []byte) error {
	if !utf8.Valid(b) {
		return errBadRequest("invalid_utf8", "the request body is not valid UTF-8")
	}
	nul := errBadRequest("nul_character", "the request body contains a NUL character (\\u0000)")
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0:
			return nul
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b) && b[i+1] == 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				continue // malformed JSON: decoding refuses it
			}
			i += 5 // the last byte of \uXXXX
			switch {
			case r == 0:
				return nul
			case r >= 0xDC00 && r <= 0xDFFF:
				return errUnpairedSurrogate()
			case r >= 0xD800 && r <= 0xDBFF:
				if i+2 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
					return errUnpairedSurrogate()
				}
				if low, ok := hex4(b, i+3); !ok || low < 0xDC00 || low > 0xDFFF {
					return errUnpairedSurrogate()
				}
				i += 6
			}
		case c == '\\':
			i++ // an escaped character, perhaps a quote
		}
	}
	return nil
}

func errUnpairedSurrogate() *Error {
	return errBadRequest("invalid_unicode_escape", "the request body has a \\u escape of half a UTF-16 surrogate pair")
}

// hex4 reads the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
