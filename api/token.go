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

// validTokenShape rejects what newAccessToken could never have made, without a query.
func validTokenShape(t string) bool {
	if len(t) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}
