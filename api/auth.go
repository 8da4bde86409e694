// This file authenticates the usage endpoints' callers by their JWT.

package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const userKey = "photogen.user"

// requireJWT authenticates the caller of the usage endpoints: "Authorization: Bearer
// <JWT>", HS256 only, signed with secret, `exp` required, the user's uuid in `sub` (the
// convention of Supabase-style auth). Anything else is 401, and nothing runs.
func requireJWT(secret []byte) gin.HandlerFunc {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithLeeway(0))
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	return func(c *gin.Context) {
		raw, ok := bearer(c)
		if !ok {
			renderError(c, errUnauthorized("send a JWT as Authorization: Bearer <token>"))
			return
		}
		var claims jwt.RegisteredClaims
		if _, err := parser.ParseWithClaims(raw, &claims, keyFunc); err != nil {
			msg := "the token is invalid"
			if errors.Is(err, jwt.ErrTokenExpired) {
				msg = "the token has expired"
			}
			renderError(c, errUnauthorized(msg))
			return
		}
		user, err := uuid.Parse(claims.Subject)
		if err != nil {
			renderError(c, errUnauthorized("the token's sub is not a user id"))
			return
		}
		c.Set(userKey, user)
		c.Next()
	}
}

func errUnauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

func userFrom(c *gin.Context) uuid.UUID { return c.MustGet(userKey).(uuid.UUID) }
