// This file makes and checks subscribers' access tokens.

package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/gin-gonic/gin"
)

// newAccessToken returns a random 32-byte token, URL-safe base64, and its SHA-256,
// which is all the database keeps.
func newAccessToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// bearer returns the credential of an "Authorization: Bearer <credential>" header, and
// whether the header had that form. It is the one parser of Bearer headers: access
// tokens, usage JWTs and the operator token all come through it.
func bearer(c *gin.Context) (string, bool) {
	scheme, cred, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}

// accessToken returns the subscriber's access token from "Authorization: Bearer ..."
// or, for clients that cannot set headers, the accessToken query parameter.
func accessToken(c *gin.Context) string {
	if c.GetHeader("Authorization") != "" {
		tok, _ := bearer(c)
		return tok
	}
	return c.Query("accessToken")
}

// accessTokenLen is the length of an access token: 32 bytes in unpadded base64.
const accessTokenLen = 43

// validTokenShape rejects what newAccessToken could never have made, without a query.
// It decodes on the stack: it runs on every status poll.
func validTokenShape(t string) bool {
	if len(t) != accessTokenLen {
		return false
	}
	var src [accessTokenLen]byte
	var dst [32]byte // base64.RawURLEncoding.DecodedLen(accessTokenLen)
	copy(src[:], t)
	_, err := base64.RawURLEncoding.Decode(dst[:], src[:])
	return err == nil
}

// tokenKey is hashToken's sum as an array, for a token of validTokenShape, hashed from a
// copy on the stack: the status cache's key, computed on every status poll.
func tokenKey(token string) [32]byte {
	var b [accessTokenLen]byte
	n := copy(b[:], token)
	return sha256.Sum256(b[:n])
}
