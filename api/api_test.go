package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86/webhook"

	"photogen/api"
	"photogen/internal/demo"
	"photogen/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func (e *env) post(t *testing.T, path, body string) demo.Response {
	t.Helper()
	resp, err := e.c.Do(context.Background(), http.MethodPost, path, []byte(body), nil)
	require.NoError(t, err)
	return resp
}

// requireError checks a documented error: status, JSON body with the code.
func requireError(t *testing.T, resp demo.Response, status int, code string) {
	t.Helper()
	require.Equal(t, status, resp.Status, "body: %s", resp.Body)
	var body struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(resp.Body, &body), "error body is JSON: %s", resp.Body)
	require.Equal(t, code, body.Error.Code)
	require.NotEmpty(t, body.Error.Message)
}

func TestCreateSubscriber(t *testing.T) {
	t.Parallel()
	// Twelve sign-ups from one address check validation; the sign-up limit (ten at once)
	// has its own tests (ratelimit_test.go).
	e := newEnv(t, withConfig(func(c *api.Config) { c.RateLimits, _ = api.ParseRateLimits("signup=off") }))
	resp := e.post(t, "/api/blueprint/subscribers", `{"email":"Ann@Example.com","strategy":{"prompt":"a red fox","style":"film"}}`)
	require.Equal(t, http.StatusCreated, resp.Status)
	var got struct{ SubscriberID, AccessToken string }
	require.NoError(t, json.Unmarshal(resp.Body, &got))
	require.Len(t, got.AccessToken, 43)
	require.NotEmpty(t, got.SubscriberID)

	var stored []byte
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT access_token_hash FROM subscribers`).Scan(&stored))
	require.Len(t, stored, 32, "only the SHA-256 is stored")
	require.NotContains(t, e.logs.String(), got.AccessToken, "the token is never logged")

	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"same email other case", `{"email":"ann@example.COM","strategy":{"prompt":"p"}}`, 409, "email_taken"},
		{"invalid email", `{"email":"not-an-email","strategy":{"prompt":"p"}}`, 400, "invalid_email"},
		{"display name", `{"email":"Ann <ann@x.io>","strategy":{"prompt":"p"}}`, 400, "invalid_email"},
		{"missing prompt", `{"email":"b@example.com","strategy":{}}`, 400, "invalid_prompt"},
		{"prompt not a string", `{"email":"b@example.com","strategy":{"prompt":7}}`, 400, "invalid_prompt"},
		{"blank prompt", `{"email":"b@example.com","strategy":{"prompt":"   "}}`, 400, "invalid_prompt"},
		{"over-long prompt", `{"email":"b@example.com","strategy":{"prompt":"` + strings.Repeat("é", 4001) + `"}}`, 400, "invalid_prompt"},
		{"malformed JSON", `{"email":`, 400, "malformed_json"},
		{"wrong shape", `[1,2]`, 400, "malformed_json"},
		{"oversize body", `{"email":"b@example.com","strategy":{"prompt":"` + strings.Repeat("a", 70<<10) + `"}}`, 413, "body_too_large"},
	}
	for _, tc := range cases {
		requireError(t, e.post(t, "/api/blueprint/subscribers", tc.body), tc.status, tc.code)
	}
	require.Equal(t, 1, e.count(t, "subscribers"), "bad input writes nothing")

	// A 4000-character prompt is the longest accepted.
	resp = e.post(t, "/api/blueprint/subscribers", `{"email":"c@example.com","strategy":{"prompt":"`+strings.Repeat("é", 4000)+`"}}`)
	require.Equal(t, http.StatusCreated, resp.Status)
}

func TestStripeWebhookRefusesWhatIsNotSignedAndFresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "pay@example.com", "p")
	require.NoError(t, err)
	event := demo.CheckoutCompleted("evt_bad", sub.SubscriberID, "pay@example.com")

	resp, err := e.c.SendWebhook(ctx, "whsec_wrong", event, time.Now())
	require.NoError(t, err)
	requireError(t, resp, 400, "invalid_signature")

	resp, err = e.c.SendWebhook(ctx, secret, event, time.Now().Add(-6*time.Minute))
	require.NoError(t, err)
	requireError(t, resp, 400, "invalid_signature")

	requireError(t, e.post(t, "/webhooks/stripe", string(event)), 400, "invalid_signature")

	resp, err = e.c.SendWebhook(ctx, secret, []byte(`{"id": "evt_x", "type": `), time.Now())
	require.NoError(t, err)
	requireError(t, resp, 400, "malformed_event")

	resp, err = e.c.SendWebhook(ctx, secret, bytes.Repeat([]byte("x"), api.MaxWebhookBytes+1), time.Now())
	require.NoError(t, err)
	requireError(t, resp, 413, "body_too_large")

	// Tampered after signing: a valid header for another body.
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: secret, Timestamp: time.Now()})
	tampered := bytes.Replace(event, []byte(`"paid"`), []byte(`"PAID"`), 1)
	resp, err = e.c.Do(ctx, http.MethodPost, "/webhooks/stripe", tampered, http.Header{"Stripe-Signature": {signed.Header}})
	require.NoError(t, err)
	requireError(t, resp, 400, "invalid_signature")

	require.Equal(t, 0, e.count(t, "stripe_events"))
	require.Equal(t, 0, e.count(t, "river_job"))
	require.NotContains(t, e.logs.String(), secret, "the webhook secret is never logged")
}

func TestStripeWebhookNothingWrittenOnRefusal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "nw@example.com", "p")
	require.NoError(t, err)
	event := demo.CheckoutCompleted("evt_nw", sub.SubscriberID, "nw@example.com")
	for _, at := range []time.Time{time.Now().Add(-10 * time.Minute), time.Now().Add(-5*time.Minute - time.Second)} {
		resp, err := e.c.SendWebhook(ctx, secret, event, at)
		require.NoError(t, err)
		requireError(t, resp, 400, "invalid_signature")
	}
	require.Equal(t, 0, e.count(t, "stripe_events"))
	require.Equal(t, 0, e.count(t, "river_job"))
	st, err := e.c.GetStatus(ctx, sub.AccessToken)
	require.NoError(t, err)
	require.False(t, st.Paid)
	require.Equal(t, "awaiting_payment", st.State)
}

func TestStripeWebhookOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	send := func(payload string) demo.Response {
		resp, err := e.c.SendWebhook(ctx, secret, []byte(payload), time.Now())
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
		return resp
	}
	byEmail, err := e.c.CreateSubscriber(ctx, "mail@example.com", "p")
	require.NoError(t, err)
	asyncSub, err := e.c.CreateSubscriber(ctx, "async@example.com", "p")
	require.NoError(t, err)

	// Unknown subscriber: stored, acknowledged, no job.
	resp := send(string(demo.CheckoutCompleted("evt_unknown", "", "nobody@example.com")))
	require.JSONEq(t, `{"received":true,"outcome":"unmatched"}`, string(resp.Body))
	// Another event type: ignored.
	resp = send(`{"id":"evt_other","type":"customer.created","data":{"object":{}}}`)
	require.JSONEq(t, `{"received":true,"outcome":"ignored"}`, string(resp.Body))
	// A checkout whose payment is still pending: ignored until async success.
	resp = send(`{"id":"evt_unpaid","type":"checkout.session.completed","data":{"object":{"client_reference_id":"` + asyncSub.SubscriberID + `","payment_status":"unpaid"}}}`)
	require.JSONEq(t, `{"received":true,"outcome":"ignored"}`, string(resp.Body))
	require.Equal(t, 0, e.count(t, "river_job"))
	resp = send(`{"id":"evt_async","type":"checkout.session.async_payment_succeeded","data":{"object":{"client_reference_id":"` + asyncSub.SubscriberID + `","payment_status":"paid"}}}`)
	require.JSONEq(t, `{"received":true,"outcome":"applied"}`, string(resp.Body))
	// Matched by email when there is no client_reference_id; case differs.
	resp = send(`{"id":"evt_mail","type":"checkout.session.completed","data":{"object":{"customer_details":{"email":"MAIL@example.com"},"payment_status":"no_payment_required"}}}`)
	require.JSONEq(t, `{"received":true,"outcome":"applied"}`, string(resp.Body))
	// Redelivery: no second effect.
	resp = send(`{"id":"evt_mail","type":"checkout.session.completed","data":{"object":{"customer_details":{"email":"MAIL@example.com"},"payment_status":"no_payment_required"}}}`)
	require.JSONEq(t, `{"received":true,"duplicate":true,"outcome":"applied"}`, string(resp.Body))

	require.Equal(t, 5, e.count(t, "stripe_events"))
	require.Equal(t, 2, e.count(t, "river_job"), "one job per paid subscriber")
	for _, tok := range []string{byEmail.AccessToken, asyncSub.AccessToken} {
		st, err := e.c.GetStatus(ctx, tok)
		require.NoError(t, err)
		require.True(t, st.Paid)
		require.Equal(t, "queued", st.State)
	}
	require.Contains(t, e.logs.String(), "matches no subscriber", "unmatched payments are logged for operators")
}

func TestGeneratePaid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "gen@example.com", "p")
	require.NoError(t, err)
	body := `{"accessToken":"` + sub.AccessToken + `"}`

	requireError(t, e.post(t, "/api/blueprint/generate-paid", `{}`), 400, "missing_token")
	requireError(t, e.post(t, "/api/blueprint/generate-paid", `{"accessToken":"nope"}`), 404, "not_found")
	requireError(t, e.post(t, "/api/blueprint/generate-paid", `{"accessToken":"`+strings.Repeat("A", 43)+`"}`), 404, "not_found")
	requireError(t, e.post(t, "/api/blueprint/generate-paid", `{"accessToken":`), 400, "malformed_json")
	requireError(t, e.post(t, "/api/blueprint/generate-paid", body), 402, "payment_required")
	require.Equal(t, 0, e.count(t, "river_job"))

	_, err = e.db.Pool.Exec(ctx, `UPDATE subscribers SET paid_at = now(), generation_status = 'queued'`)
	require.NoError(t, err)
	for range 3 {
		resp := e.post(t, "/api/blueprint/generate-paid", body)
		require.Equal(t, http.StatusAccepted, resp.Status)
		require.JSONEq(t, `{"success":true,"inProgress":true,"state":"queued","totalPhotos":0,"targetPhotos":30,"message":"Generation in progress: 0/30 photos complete."}`, string(resp.Body))
	}
	require.Equal(t, 1, e.count(t, "river_job"), "repeated calls enqueue once")

	// A failed generation is queued again, continuing from the ledger.
	_, err = e.db.Pool.Exec(ctx, `UPDATE subscribers SET generation_status = 'failed', generation_error = 'budget'`)
	require.NoError(t, err)
	resp := e.post(t, "/api/blueprint/generate-paid", body)
	require.Equal(t, http.StatusAccepted, resp.Status)
	st, err := e.c.GetStatus(ctx, sub.AccessToken)
	require.NoError(t, err)
	require.Equal(t, "queued", st.State)
	require.Nil(t, st.Error)
	require.NotContains(t, e.logs.String(), sub.AccessToken)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "st@example.com", "p")
	require.NoError(t, err)

	resp, err := e.c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, nil)
	require.NoError(t, err)
	requireError(t, resp, 401, "missing_token")
	resp, err = e.c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Authorization": {"Bearer " + strings.Repeat("B", 43)}})
	require.NoError(t, err)
	requireError(t, resp, 404, "not_found")

	resp, err = e.c.Do(ctx, http.MethodGet, "/api/blueprint/status?accessToken="+sub.AccessToken, nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
	var st map[string]any
	require.NoError(t, json.Unmarshal(resp.Body, &st))
	require.Equal(t, "awaiting_payment", st["state"])
	require.Equal(t, false, st["paid"])
	require.Equal(t, []any{}, st["photoUrls"])
	require.Nil(t, st["error"])
	_, err = time.Parse(time.RFC3339, st["updatedAt"].(string))
	require.NoError(t, err)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	auth := http.Header{"Authorization": {"Bearer " + sub.AccessToken}, "If-None-Match": {etag}}
	resp, err = e.c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, auth)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotModified, resp.Status)
	require.Empty(t, resp.Body)

	_, err = e.db.Pool.Exec(ctx, `UPDATE subscribers SET paid_at = now(), generation_status = 'queued', updated_at = now()`)
	require.NoError(t, err)
	resp, err = e.c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, auth)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "a change gives a new ETag")
	require.NotEqual(t, etag, resp.Header.Get("ETag"))
	require.NotContains(t, e.logs.String(), sub.AccessToken, "tokens in the query are never logged")
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := e.c.Do(ctx, http.MethodGet, path, nil, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.Status, path)
	}
	resp, err := e.c.Do(ctx, http.MethodGet, "/nope", nil, nil)
	require.NoError(t, err)
	requireError(t, resp, 404, "not_found")
	resp, err = e.c.Do(ctx, http.MethodGet, "/webhooks/stripe", nil, nil)
	require.NoError(t, err)
	requireError(t, resp, 405, "method_not_allowed")
}
