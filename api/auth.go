// This file authenticates the usage endpoints' callers by their JWT.

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const userKey = "photogen.user"

// requireJWT authenticates the caller of the usage endpoints: "Authorization: Bearer
// <JWT>", HS256 only, signed with cfg.JWTSecret; `exp` required and numeric, as `iat`
// and `nbf` when present; `iat` not in the future; the token valid for at most
// cfg.JWTMaxLifetime (from now, and from its `iat`); `aud` and `iss` checked when
// cfg.JWTAudience and cfg.JWTIssuer are set; the user's uuid in `sub` (the convention of
// Supabase-style auth). Anything else is 401, and nothing runs.
func requireJWT(cfg Config) gin.HandlerFunc {
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(0)}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience))
	}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	parser := jwt.NewParser(opts...)
	secret := []byte(cfg.JWTSecret)
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	return func(c *gin.Context) {
		raw, ok := bearer(c)
		if !ok {
			renderError(c, errUnauthorized("send a JWT as Authorization: Bearer <token>"))
			return
		}
		var claims usageClaims
		if _, err := parser.ParseWithClaims(raw, &claims, keyFunc); err != nil {
			msg := "the token is invalid"
			if errors.Is(err, jwt.ErrTokenExpired) {
				msg = "the token has expired"
			}
			renderError(c, errUnauthorized(msg))
			return
		}
		if exp := claims.ExpiresAt.Time; time.Until(exp) > cfg.JWTMaxLifetime ||
			(claims.IssuedAt != nil && exp.Sub(claims.IssuedAt.Time) > cfg.JWTMaxLifetime) {
			renderError(c, errUnauthorized("the token's lifetime is longer than "+cfg.JWTMaxLifetime.String()))
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

// usageClaims are the registered claims, with the times required to be JSON numbers:
// golang-jwt's NumericDate also takes a string such as "1700000000".
type usageClaims struct{ jwt.RegisteredClaims }

// UnmarshalJSON refuses `exp`, `iat` and `nbf` that are not numbers.
func (u *usageClaims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range []string{"exp", "iat", "nbf"} {
		if v, ok := raw[name]; ok && (len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9'))) {
			return errors.New("claim " + name + " is not a number")
		}
	}
	return json.Unmarshal(b, &u.RegisteredClaims)
}

func errUnauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

func userFrom(c *gin.Context) uuid.UUID { return c.MustGet(userKey).(uuid.UUID) }
