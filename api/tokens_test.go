// Regression tests for the loose token checks: Stripe signatures from the future, and
// usage JWTs for another audience or issuer, with a string `exp`, or living too long.

package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/internal/demo"
)

func TestStripeSignaturesFromTheFutureRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "future@example.com", "p")
	require.NoError(t, err)
	event := demo.CheckoutCompleted("evt_future", sub.SubscriberID, "future@example.com")
	for _, ahead := range []time.Duration{10 * 365 * 24 * time.Hour, 6 * time.Minute} {
		resp, err := e.c.SendWebhook(ctx, secret, event, time.Now().Add(ahead))
		require.NoError(t, err)
		requireError(t, resp, 400, "invalid_signature")
	}
	require.Equal(t, 0, e.count(t, "stripe_events"))
	require.Equal(t, 0, e.count(t, "river_job"))
	// A clock a little ahead, within the tolerance, is fine.
	resp, err := e.c.SendWebhook(ctx, secret, event, time.Now().Add(4*time.Minute))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
}

func TestSignedStripeEventsWithBadTextRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct{ body, code string }{
		{`{"id":"evt_nul","type":"checkout.session.completed","data":{"object":{"customer_email":"a\u0000@x.io"}}}`, "nul_character"},
		{"{\"id\":\"evt_utf\",\"type\":\"x\",\"data\":{\"object\":{\"customer_email\":\"\xff\"}}}", "invalid_utf8"},
		{`{"id":"evt_` + strings.Repeat("x", 3000) + `","type":"customer.created","data":{"object":{}}}`, "malformed_event"},
		{`{"id":"evt_pi","type":"charge.refunded","data":{"object":{"payment_intent":"pi_` + strings.Repeat("x", 3000) + `"}}}`, "malformed_event"},
	} {
		resp, err := e.c.SendWebhook(ctx, secret, []byte(tc.body), time.Now())
		require.NoError(t, err)
		requireError(t, resp, 400, tc.code)
	}
	require.Equal(t, 0, e.count(t, "stripe_events"))
}

func TestUsageJWTChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *api.Config) {
		withJWT(c)
		// The values a Supabase project's tokens carry.
		c.JWTAudience = "authenticated"
		c.JWTIssuer = "https://abcd.supabase.co/auth/v1"
	}))
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": uuid.NewString(), "aud": "authenticated", "iss": "https://abcd.supabase.co/auth/v1",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "role": "authenticated"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	get := func(c jwt.MapClaims) demo.Response {
		t.Helper()
		resp, err := e.c.Do(context.Background(), http.MethodGet, "/api/usage", nil, http.Header{"Authorization": {"Bearer " + mintJWT(t, c)}})
		require.NoError(t, err)
		return resp
	}
	require.Equal(t, http.StatusOK, get(claims(nil)).Status)
	require.Equal(t, http.StatusOK, get(claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "authenticated"} })).Status)
	for name, edit := range map[string]func(jwt.MapClaims){
		"another audience":  func(c jwt.MapClaims) { c["aud"] = "service_role" },
		"no audience":       func(c jwt.MapClaims) { delete(c, "aud") },
		"another issuer":    func(c jwt.MapClaims) { c["iss"] = "https://evil.example/auth/v1" },
		"no issuer":         func(c jwt.MapClaims) { delete(c, "iss") },
		"exp as a string":   func(c jwt.MapClaims) { c["exp"] = "99999999999" },
		"iat as a string":   func(c jwt.MapClaims) { c["iat"] = "1" },
		"a year's lifetime": func(c jwt.MapClaims) { c["exp"] = now.Add(365 * 24 * time.Hour).Unix() },
		"25 h from its iat": func(c jwt.MapClaims) {
			c["iat"] = now.Add(-2 * time.Hour).Unix()
			c["exp"] = now.Add(23 * time.Hour).Unix()
		},
		"48 h without an iat":  func(c jwt.MapClaims) { delete(c, "iat"); c["exp"] = now.Add(48 * time.Hour).Unix() },
		"issued in the future": func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() },
	} {
		t.Run(name, func(t *testing.T) { requireError(t, get(claims(edit)), http.StatusUnauthorized, "unauthorized") })
	}
}
