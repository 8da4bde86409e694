// Regression tests for bad bytes and invisible text: each answered 400 with a precise
// code and nothing written (before, PostgreSQL refused them and the client got 500).

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
)

const jwtSecret = "api-test-jwt-secret"

func mintJWT(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(jwtSecret))
	require.NoError(t, err)
	return tok
}

func userToken(t testing.TB) string {
	return mintJWT(t, jwt.MapClaims{"sub": uuid.NewString(), "exp": time.Now().Add(time.Hour).Unix()})
}

func withJWT(c *api.Config) { c.JWTSecret = jwtSecret }

func TestSignUpRefusesBytesTheDatabaseCannotStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ name, body, code string }{
		{"NUL in the prompt", `{"email":"u@example.com","strategy":{"prompt":"abc\u0000def"}}`, "nul_character"},
		{"NUL elsewhere in strategy", `{"email":"u@example.com","strategy":{"prompt":"p","style":{"x":["a\u0000"]}}}`, "nul_character"},
		{"NUL in a key", `{"email":"u@example.com","strategy":{"prompt":"p","a\u0000":1}}`, "nul_character"},
		{"invalid UTF-8", "{\"email\":\"u@example.com\",\"strategy\":{\"prompt\":\"caf\xE9\"}}", "invalid_utf8"},
		{"half a surrogate pair", `{"email":"u@example.com","strategy":{"prompt":"p","s":"\ud800x"}}`, "invalid_unicode_escape"},
		{"a lone low surrogate", `{"email":"u@example.com","strategy":{"prompt":"\udc00"}}`, "invalid_unicode_escape"},
	} {
		requireError(t, e.post(t, "/api/blueprint/subscribers", tc.body), 400, tc.code)
	}
	require.Equal(t, 0, e.count(t, "subscribers"), "bad input writes nothing")
	// An escaped backslash before u0000 is text, not a NUL; a full surrogate pair is fine.
	resp := e.post(t, "/api/blueprint/subscribers", `{"email":"v@example.com","strategy":{"prompt":"a\\u0000 \ud83d\ude00"}}`)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
}

func TestSignUpRefusesInvisibleText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ name, body, code string }{
		{"zero-width prompt", `{"email":"a@example.com","strategy":{"prompt":"\u200b\u200d\u2060"}}`, "invalid_prompt"},
		{"bidi controls only", `{"email":"a@example.com","strategy":{"prompt":"\u202e\u2066\u2069"}}`, "invalid_prompt"},
		{"BOM and marks only", `{"email":"a@example.com","strategy":{"prompt":"\ufeff\u0301"}}`, "invalid_prompt"},
		{"control characters", `{"email":"a@example.com","strategy":{"prompt":"a\u001b[31m red"}}`, "invalid_prompt"},
		{"bidi override in email", `{"email":"\u202eann@example.com","strategy":{"prompt":"p"}}`, "invalid_email"},
		{"zero-width space in email", `{"email":"an\u200bn@example.com","strategy":{"prompt":"p"}}`, "invalid_email"},
		{"isolate in email", `{"email":"ann@exa\u2066mple.com","strategy":{"prompt":"p"}}`, "invalid_email"},
		{"strategy over 20 KiB", `{"email":"a@example.com","strategy":{"prompt":"p","notes":"` + strings.Repeat("n", 21<<10) + `"}}`, "strategy_too_large"},
	} {
		requireError(t, e.post(t, "/api/blueprint/subscribers", tc.body), 400, tc.code)
	}
	require.Equal(t, 0, e.count(t, "subscribers"))
	// Text in any script, with the joiners emoji use, is accepted.
	resp := e.post(t, "/api/blueprint/subscribers", `{"email":"b@example.com","strategy":{"prompt":"שלום \ud83d\udc69\u200d\ud83d\udcbb\tportrait"}}`)
	require.Equal(t, http.StatusCreated, resp.Status, "body: %s", resp.Body)
}

func TestConsumeRefusesBadBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(withJWT))
	auth := "Bearer " + userToken(t)
	consume := func(key string, body []byte) {
		t.Helper()
		h := http.Header{"Authorization": {auth}}
		if key != "" {
			h.Set("Idempotency-Key", key)
		}
		resp, err := e.c.Do(context.Background(), http.MethodPost, "/api/usage/resumes/consume", body, h)
		require.NoError(t, err)
		code := "invalid_idempotency_key"
		if body != nil {
			code = map[bool]string{true: "nul_character", false: "invalid_utf8"}[strings.Contains(string(body), "u0000")]
		}
		requireError(t, resp, 400, code)
	}
	consume("caf\xE9", nil)
	consume("tab\there", nil)
	consume("", []byte(`{"note":"\u0000"}`))
	consume("", []byte("{\"note\":\"\xff\"}"))
	require.Equal(t, 0, e.count(t, "usage_counters"))
	require.Equal(t, 0, e.count(t, "usage_idempotency_keys"))
}
