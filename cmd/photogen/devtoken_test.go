package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// parseDevToken reads a token as the usage endpoints do: HS256 only, exp required.
func parseDevToken(t *testing.T, raw, secret string, opts ...jwt.ParserOption) jwt.RegisteredClaims {
	t.Helper()
	var claims jwt.RegisteredClaims
	p := jwt.NewParser(append([]jwt.ParserOption{jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()}, opts...)...)
	_, err := p.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return []byte(secret), nil })
	require.NoError(t, err)
	return claims
}

func TestDevTokenMintsAUsageJWT(t *testing.T) {
	t.Parallel()
	user := uuid.New()
	out, errOut, err := runArgs(t, map[string]string{"AUTH_JWT_SECRET": "s3cret"}, "dev-token", user.String())
	require.NoError(t, err, errOut)
	claims := parseDevToken(t, strings.TrimSpace(out), "s3cret")
	require.Equal(t, user.String(), claims.Subject)
	require.WithinDuration(t, time.Now().Add(time.Hour), claims.ExpiresAt.Time, time.Minute)
	require.Empty(t, claims.Audience)
	require.Empty(t, claims.Issuer)

	out, _, err = runArgs(t, map[string]string{"AUTH_JWT_SECRET": "s3cret", "AUTH_JWT_AUDIENCE": "authenticated",
		"AUTH_JWT_ISSUER": "https://auth.example"}, "dev-token", user.String())
	require.NoError(t, err)
	claims = parseDevToken(t, strings.TrimSpace(out), "s3cret",
		jwt.WithAudience("authenticated"), jwt.WithIssuer("https://auth.example"))
	require.Equal(t, user.String(), claims.Subject)
}

func TestDevTokenRefusals(t *testing.T) {
	t.Parallel()
	_, errOut, err := runArgs(t, nil, "dev-token", uuid.NewString())
	require.Equal(t, 1, exitCode(err))
	require.Contains(t, errOut, "AUTH_JWT_SECRET is required")
	require.Contains(t, errOut, `"msg":"invalid configuration"`)

	_, errOut, err = runArgs(t, map[string]string{"AUTH_JWT_SECRET": "s3cret"}, "dev-token", "alice")
	require.Equal(t, 2, exitCode(err))
	require.Contains(t, errOut, "want a UUID")

	_, _, err = runArgs(t, map[string]string{"AUTH_JWT_SECRET": "s3cret"}, "dev-token")
	require.Equal(t, 2, exitCode(err))
}

func TestBannerSaysWhereEverythingIs(t *testing.T) {
	t.Parallel()
	var cfg config
	cfg.API.OperatorToken, cfg.API.WebhookSecret, cfg.API.JWTSecret, cfg.API.JWTIssuer = "op-token", "whsec_dev", "jwt secret", "dev"
	user := uuid.New()
	var buf bytes.Buffer
	newBanner(cfg, "127.0.0.1:8080").print(&buf, user)
	out := buf.String()
	for _, want := range []string{
		"subscriber page   http://127.0.0.1:8080/\n",
		"River UI          http://127.0.0.1:8080/admin/river/  (any user name, password op-token)",
		"metrics           http://127.0.0.1:8080/metrics\n",
		"GET http://127.0.0.1:8080/api/usage",
		"AUTH_JWT_SECRET='jwt secret' AUTH_JWT_ISSUER=dev bin/photogen dev-token " + user.String(),
		"run the whole flow:\n    make demo\n",
		"(or: bin/photogen demo --url http://127.0.0.1:8080 --webhook-secret whsec_dev)",
	} {
		require.Contains(t, out, want)
	}

	buf.Reset()
	newBanner(config{}, ":9000").print(&buf, user)
	require.Contains(t, buf.String(), "River UI          off (set OPERATOR_TOKEN)")
	require.Contains(t, buf.String(), "usage endpoints   off (set AUTH_JWT_SECRET)")
	require.NotContains(t, buf.String(), "dev-token")
}
