// Fuzz targets for every JSON body the api accepts: sign-up, generate-paid, the Stripe
// and Replicate webhooks (signed, so that decoding is reached) and consume. The
// property, against a real database: never a 5xx, and a 4xx writes nothing. `make test`
// runs each for a few seconds from the seeds below, which include the bodies of issue 13.

package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v86/webhook"
	"golang.org/x/net/http/httpguts"

	"photogen/api"
	"photogen/internal/demo"
	"photogen/provider"
)

// watched is every table a request of the api can write.
var watched = []string{"subscribers", "stripe_events", "predictions", "river_job", "usage_counters", "usage_idempotency_keys"}

// fingerprint is a digest of each watched table's rows.
func (e *env) fingerprint(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range watched {
		var sum string
		err := e.db.Pool.QueryRow(context.Background(),
			`SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM `+table+` t`).Scan(&sum)
		if err != nil {
			t.Fatalf("fingerprint %s: %v", table, err)
		}
		out[table] = sum
	}
	return out
}

// check sends a request and fails on a 5xx, or on a 4xx that changed a table other
// than those mayWrite (nil: none) allows for that answer.
func (e *env) check(t *testing.T, send func() (demo.Response, error), mayWrite func(demo.Response) []string) {
	t.Helper()
	before := e.fingerprint(t)
	resp, err := send()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status >= 500 {
		t.Fatalf("%d: %s", resp.Status, resp.Body)
	}
	if resp.Status < 400 {
		return
	}
	var allowed []string
	if mayWrite != nil {
		allowed = mayWrite(resp)
	}
	after := e.fingerprint(t)
	for _, table := range watched {
		if before[table] != after[table] && !slices.Contains(allowed, table) {
			t.Fatalf("%d %s wrote to %s", resp.Status, resp.Body, table)
		}
	}
}

// noLimits lifts the per-address limits: a fuzzer sends thousands of requests from one
// address, and the limits have their own tests (ratelimit_test.go).
func noLimits(c *api.Config) { c.RateLimits, _ = api.ParseRateLimits("off") }

var issueBodies = []string{
	`{"email":"u@example.com","strategy":{"prompt":"abc\u0000def"}}`,
	`{"email":"u@example.com","strategy":{"prompt":"p","style":{"x":["\u0000"]}}}`,
	"{\"email\":\"u@example.com\",\"strategy\":{\"prompt\":\"caf\xE9\"}}",
	`{"email":"\u202eu@example.com","strategy":{"prompt":"\u200b\u2066"}}`,
	`{"email":"u@example.com","strategy":{"prompt":"a red fox","style":"film"}}`,
	`{"email":"u@example.com","strategy":{"prompt":"\ud800"}}`,
	`{"accessToken":"` + strings.Repeat("A", 43) + `"}`,
	`{"accessToken":"\u0000"}`,
	`[1,2]`, `{"email":`, `null`, ``,
}

func FuzzSignUp(f *testing.F) {
	for _, b := range issueBodies {
		f.Add([]byte(b))
	}
	e := newEnv(f, withConfig(noLimits))
	f.Fuzz(func(t *testing.T, body []byte) {
		e.check(t, func() (demo.Response, error) {
			return e.c.Do(context.Background(), http.MethodPost, "/api/blueprint/subscribers", body, nil)
		}, nil)
	})
}

func FuzzGeneratePaid(f *testing.F) {
	for _, b := range issueBodies {
		f.Add([]byte(b))
	}
	e := newEnv(f, withConfig(noLimits))
	sub, err := e.c.CreateSubscriber(context.Background(), "paid@example.com", "p")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE subscribers SET paid_at = now(), generation_status = 'queued'`); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"accessToken":"` + sub.AccessToken + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e.check(t, func() (demo.Response, error) {
			return e.c.Do(context.Background(), http.MethodPost, "/api/blueprint/generate-paid", body, nil)
		}, nil)
	})
}

func FuzzStripeWebhook(f *testing.F) {
	for _, b := range issueBodies {
		f.Add([]byte(b), int64(0))
	}
	for _, b := range []string{
		string(demo.CheckoutCompleted("evt_seed", "00000000-0000-0000-0000-000000000000", "paid@example.com")),
		string(demo.ChargeRefunded("evt_refund", "pi_evt_seed")),
		`{"id":"evt_nul","type":"checkout.session.completed","data":{"object":{"customer_email":"a\u0000@x.io","payment_status":"paid"}}}`,
		`{"id":"evt_` + strings.Repeat("x", 300) + `","type":"customer.created"}`,
	} {
		f.Add([]byte(b), int64(0))
	}
	f.Add([]byte(`{"id":"evt_future","type":"customer.created"}`), int64(10*365*24*3600))
	e := newEnv(f, withConfig(noLimits))
	if _, err := e.c.CreateSubscriber(context.Background(), "paid@example.com", "p"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, skew int64) {
		at := time.Now().Add(time.Duration(skew%(1<<32)) * time.Second)
		e.check(t, func() (demo.Response, error) {
			signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
			return e.c.Do(context.Background(), http.MethodPost, "/webhooks/stripe", body, http.Header{"Stripe-Signature": {signed.Header}})
		}, nil)
	})
}

// replicateKey is the Replicate webhook signing key of the tests, and its secret.
var (
	replicateKey    = []byte("photogen api fuzz replicate key!")
	replicateSecret = "whsec_" + base64.StdEncoding.EncodeToString(replicateKey)
)

// signReplicate signs a delivery as Replicate does (Standard Webhooks).
func signReplicate(body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, replicateKey)
	mac.Write([]byte("msg_fuzz." + ts + "."))
	mac.Write(body)
	return http.Header{"webhook-id": {"msg_fuzz"}, "webhook-timestamp": {ts},
		"webhook-signature": {"v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))}}
}

func withReplicateWebhooks(t testing.TB, _ *env, o *api.Options) {
	v, err := provider.NewWebhookVerifier(provider.ReplicateConfig{}, replicateSecret)
	if err != nil {
		t.Fatal(err)
	}
	o.ReplicateWebhooks, o.ReplicateRefused = v, provider.Refusal
}

func FuzzReplicateWebhook(f *testing.F) {
	for _, b := range issueBodies {
		f.Add([]byte(b))
	}
	prediction := func(edit func(map[string]any)) []byte {
		p := map[string]any{"id": "p_seed", "status": "succeeded", "output": []string{"http://127.0.0.1:1/out.png"},
			"input": map[string]any{"seed": 7, "prompt": "p"}, "created_at": time.Now().Format(time.RFC3339)}
		edit(p)
		b, _ := json.Marshal(p)
		return b
	}
	f.Add(prediction(func(map[string]any) {}))
	f.Add(prediction(func(p map[string]any) { p["status"], p["error"] = "failed", "NSFW\u0000" }))
	f.Add(prediction(func(p map[string]any) { p["output"] = "http://127.0.0.1:1/one.png" }))
	f.Add(prediction(func(p map[string]any) { p["id"] = strings.Repeat("p", 300) }))
	e := newEnv(f, withConfig(noLimits), withParts(withReplicateWebhooks))
	f.Fuzz(func(t *testing.T, body []byte) {
		e.check(t, func() (demo.Response, error) {
			return e.c.Do(context.Background(), http.MethodPost, "/webhooks/replicate", body, signReplicate(body, time.Now()))
		}, nil)
	})
}

func FuzzConsume(f *testing.F) {
	for _, b := range issueBodies {
		f.Add([]byte(b), "")
	}
	f.Add([]byte(nil), "caf\xE9")
	f.Add([]byte(nil), "key-1")
	f.Add([]byte(`{"note":"x"}`), strings.Repeat("k", 256))
	e := newEnv(f, withConfig(func(c *api.Config) { noLimits(c); withJWT(c) }))
	auth := http.Header{"Authorization": {"Bearer " + userToken(f)}}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		if !httpguts.ValidHeaderFieldValue(key) {
			return // net/http sends no such header
		}
		h := auth.Clone()
		if key != "" {
			h["Idempotency-Key"] = []string{key}
		}
		e.check(t, func() (demo.Response, error) {
			return e.c.Do(context.Background(), http.MethodPost, "/api/usage/resumes/consume", body, h)
		}, func(resp demo.Response) []string {
			// The one 4xx that writes: a refusal past the monthly limit keeps its answer
			// under its Idempotency-Key, so that a retry gets the same 403.
			if resp.Status == http.StatusForbidden && strings.Contains(string(resp.Body), `"limit_exceeded"`) {
				return []string{"usage_idempotency_keys"}
			}
			return nil
		})
	})
}
