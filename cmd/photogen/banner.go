// This file is the development banner that `make run` prints (PHOTOGEN_DEV=1) once the
// api listens: where the page, River UI, /metrics and the usage endpoints are, how to
// get a JWT for them, and the line that runs the whole flow.

package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// banner is what the development banner shows.
type banner struct {
	URL           string // the api's base URL
	MetricsURL    string // the api's /metrics page, on METRICS_ADDR
	WebhookSecret string // STRIPE_WEBHOOK_SECRET
	OperatorToken string // River UI's password; empty: River UI is off
	// TokenEnv is what `photogen dev-token` needs in another terminal (AUTH_JWT_*);
	// empty: the usage endpoints are off.
	TokenEnv []string
}

// newBanner describes the api serving on bound with cfg.
func newBanner(cfg config, bound string) banner {
	url := baseURL(bound)
	b := banner{URL: url, MetricsURL: baseURL(cfg.MetricsAddr) + "/metrics", WebhookSecret: cfg.API.WebhookSecret, OperatorToken: cfg.API.OperatorToken}
	if cfg.API.JWTSecret != "" {
		b.TokenEnv = []string{"AUTH_JWT_SECRET=" + shellQuote(cfg.API.JWTSecret)}
		for _, kv := range [][2]string{{"AUTH_JWT_AUDIENCE", cfg.API.JWTAudience}, {"AUTH_JWT_ISSUER", cfg.API.JWTIssuer}} {
			if kv[1] != "" {
				b.TokenEnv = append(b.TokenEnv, kv[0]+"="+shellQuote(kv[1]))
			}
		}
	}
	return b
}

// print writes the banner to w; user is the example user id of the JWT command.
func (b banner) print(w io.Writer, user uuid.UUID) {
	fmt.Fprintf(w, "\nphotogen is running at %s\n", b.URL)
	row := func(what, where string) { fmt.Fprintf(w, "  %-17s %s\n", what, where) }
	row("subscriber page", b.URL+"/")
	if b.OperatorToken != "" {
		row("River UI", b.URL+"/admin/river/  (any user name, password "+b.OperatorToken+")")
	} else {
		row("River UI", "off (set OPERATOR_TOKEN)")
	}
	row("metrics", b.MetricsURL)
	if len(b.TokenEnv) > 0 {
		row("usage endpoints", "GET "+b.URL+"/api/usage, POST "+b.URL+"/api/usage/<counter>/consume (Bearer JWT)")
		mint := strings.Join(b.TokenEnv, " ") + " bin/photogen dev-token " + user.String()
		fmt.Fprintf(w, "  a development JWT for them (valid an hour, sub = the user id):\n    %s\n", mint)
		fmt.Fprintf(w, "    curl -H \"Authorization: Bearer $(%s)\" %s/api/usage\n", mint, b.URL)
	} else {
		row("usage endpoints", "off (set AUTH_JWT_SECRET)")
	}
	fmt.Fprintf(w, `  development webhook secret: %s
  in another terminal, run the whole flow:
    make demo
    (or: bin/photogen demo --url %s --webhook-secret %s)

`, b.WebhookSecret, b.URL, b.WebhookSecret)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
