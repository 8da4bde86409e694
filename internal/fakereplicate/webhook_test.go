package fakereplicate_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replicate/replicate-go"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// delivery is one webhook POST as a receiver saw it.
type delivery struct {
	header http.Header
	body   []byte
	at     time.Time
	valid  bool  // replicate.ValidateWebhookRequest's verdict on the request itself
	err    error // and its error
}

// receiver is a webhook endpoint on loopback. It validates each delivery with
// replicate-go against its secret, keeps it, and answers what answer says for the nth
// delivery (from 1).
type receiver struct {
	url    string
	got    chan delivery
	secret string
}

func newReceiver(t *testing.T, secret string, answer func(n int) int) *receiver {
	t.Helper()
	rcv := &receiver{got: make(chan delivery, 64), secret: secret}
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, err := replicate.ValidateWebhookRequest(r, replicate.WebhookSigningSecret{Key: secret})
		body, _ := io.ReadAll(r.Body) // ValidateWebhookRequest puts the body back
		rcv.got <- delivery{header: r.Header.Clone(), body: body, at: time.Now(), valid: ok, err: err}
		w.WriteHeader(answer(int(n.Add(1))))
	}))
	t.Cleanup(ts.Close)
	rcv.url = ts.URL + "/hooks/replicate"
	return rcv
}

func answer200(int) int { return http.StatusOK }

// next returns the next delivery, failing the test after 5 s without one.
func (r *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.got:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook delivery within 5 s")
		return delivery{}
	}
}

// none requires that no delivery arrives within d.
func (r *receiver) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-r.got:
		t.Fatalf("unexpected webhook delivery: %s", got.body)
	case <-time.After(d):
	}
}

// status is the prediction status in a delivery's body.
func (d delivery) status(t *testing.T) string {
	t.Helper()
	var p struct{ Status string }
	require.NoError(t, json.Unmarshal(d.body, &p))
	return p.Status
}

// validates reports whether replicate-go accepts body with d's headers under secret.
func (d delivery) validates(t *testing.T, body []byte, secret string) bool {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/hooks/replicate", bytes.NewReader(body))
	req.Header = d.header.Clone()
	ok, err := replicate.ValidateWebhookRequest(req, replicate.WebhookSigningSecret{Key: secret})
	require.NoError(t, err)
	return ok
}

// completed is a webhook that asks for the completed event only.
func completed(url string) *replicate.Webhook {
	return &replicate.Webhook{URL: url, Events: []replicate.WebhookEventType{replicate.WebhookEventCompleted}}
}

func TestWebhookIsSignedAndValidatesWithReplicateGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 20 * time.Millisecond, Token: token})
	secret, err := e.rc.GetDefaultWebhookSecret(t.Context())
	require.NoError(t, err)
	require.Equal(t, fakereplicate.DefaultWebhookSecret, secret.Key)
	require.Equal(t, fakereplicate.DefaultWebhookSecret, e.fake.WebhookSecret())
	rcv := newReceiver(t, secret.Key, answer200)

	p, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(rcv.url), false)
	require.NoError(t, err)
	d := rcv.next(t)
	require.NoError(t, d.err)
	require.True(t, d.valid, "replicate.ValidateWebhookRequest accepts the delivery")
	require.Regexp(t, regexp.MustCompile(`^msg_[a-z0-9]{26}$`), d.header.Get("webhook-id"))
	require.Regexp(t, regexp.MustCompile(`^v1,[A-Za-z0-9+/]+=*$`), d.header.Get("webhook-signature"))
	ts, err := strconv.ParseInt(d.header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Unix(), ts, 10, "unix seconds, now")
	require.Equal(t, "application/json", d.header.Get("Content-Type"))

	done := e.waitFinal(t, p.ID)
	require.Equal(t, replicate.Succeeded, done.Status)
	require.JSONEq(t, string(done.RawJSON()), string(d.body), "the JSON a GET returns")

	tampered := bytes.Replace(d.body, []byte(`"succeeded"`), []byte(`"failed"`), 1)
	require.NotEqual(t, d.body, tampered)
	require.False(t, d.validates(t, tampered, secret.Key), "a tampered body is rejected")
	require.True(t, d.validates(t, d.body, secret.Key))
	otherKey := "whsec_" + base64.StdEncoding.EncodeToString([]byte("some other key"))
	require.False(t, d.validates(t, d.body, otherKey), "another secret is rejected")
	d.header.Set("webhook-id", "msg_forged")
	require.False(t, d.validates(t, d.body, secret.Key), "another id is rejected")

	rcv.none(t, 100*time.Millisecond) // the start event was not asked for
	require.Eventually(t, func() bool {
		return e.fake.Webhooks() == fakereplicate.WebhookStats{Attempts: 1, Sent: 1}
	}, 5*time.Second, 2*time.Millisecond)
	require.Equal(t, fakereplicate.CallCount{Calls: 1}, e.fake.Calls().WebhookSecret)
}

func TestConfiguredWebhookSecretSignsAndIsServed(t *testing.T) {
	t.Parallel()
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret of this test only"))
	e := newEnv(t, fakereplicate.Config{WebhookSecret: secret})
	resp, body := e.do(t, http.MethodGet, "/v1/webhooks/default/secret", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"key":"`+secret+`"}`, string(body))

	rcv := newReceiver(t, secret, answer200)
	_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(rcv.url), false)
	require.NoError(t, err)
	d := rcv.next(t)
	require.True(t, d.valid)
	require.False(t, d.validates(t, d.body, fakereplicate.DefaultWebhookSecret))

	require.Error(t, fakereplicate.Config{WebhookSecret: "whsec_not base64!"}.Validate())
	require.Error(t, fakereplicate.Config{WebhookSecret: "sk_abc"}.Validate())
	require.NoError(t, fakereplicate.Config{}.Validate())
	require.Panics(t, func() { fakereplicate.New(fakereplicate.Config{WebhookSecret: "nope"}) })
}

func TestWebhookWithoutFilterSendsStartAndCompleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 60 * time.Millisecond})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, answer200)
	_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(),
		&replicate.Webhook{URL: rcv.url}, false)
	require.NoError(t, err)
	first, second := rcv.next(t), rcv.next(t)
	require.True(t, first.valid)
	require.True(t, second.valid)
	// Deliveries run concurrently, so they may arrive in either order, as Replicate's may.
	require.ElementsMatch(t, []string{"processing", "succeeded"}, []string{first.status(t), second.status(t)})
	require.NotEqual(t, first.header.Get("webhook-id"), second.header.Get("webhook-id"), "one id per event")
	rcv.none(t, 100*time.Millisecond)
}

func TestWebhookDuplicatesShareTheirID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, WebhookDuplicateRate: 1})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, answer200)
	_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(rcv.url), false)
	require.NoError(t, err)
	first, second := rcv.next(t), rcv.next(t)
	require.True(t, first.valid)
	require.True(t, second.valid)
	require.Equal(t, first.header.Get("webhook-id"), second.header.Get("webhook-id"), "the same event twice")
	require.Equal(t, first.body, second.body)
	require.Equal(t, "succeeded", first.status(t))
	rcv.none(t, 100*time.Millisecond)
	require.Eventually(t, func() bool {
		return e.fake.Webhooks() == fakereplicate.WebhookStats{Attempts: 2, Sent: 2, Duplicated: 1}
	}, 5*time.Second, 2*time.Millisecond)
}

func TestWebhookDropsOnlyTheCompletedEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 30 * time.Millisecond, WebhookDropRate: 1, WebhookDuplicateRate: 1})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, answer200)
	p, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(),
		&replicate.Webhook{URL: rcv.url}, false) // start and completed
	require.NoError(t, err)
	require.Equal(t, replicate.Succeeded, e.waitFinal(t, p.ID).Status)
	require.Equal(t, 1, e.fake.Webhooks().Dropped, "counted as the prediction ends")
	require.Equal(t, "processing", rcv.next(t).status(t), "the start event is sent")
	rcv.none(t, 200*time.Millisecond)
	require.Eventually(t, func() bool { // a dropped event is not duplicated
		return e.fake.Webhooks() == fakereplicate.WebhookStats{Attempts: 1, Sent: 1, Dropped: 1}
	}, 5*time.Second, 2*time.Millisecond)
}

func TestWebhookIsRetriedAfterA500(t *testing.T) {
	t.Parallel()
	const backoff = 30 * time.Millisecond
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, WebhookBackoff: backoff})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(rcv.url), false)
	require.NoError(t, err)
	tries := []delivery{rcv.next(t), rcv.next(t), rcv.next(t)}
	for _, d := range tries {
		require.True(t, d.valid, "every attempt is signed afresh")
		require.Equal(t, tries[0].header.Get("webhook-id"), d.header.Get("webhook-id"), "retries keep the id")
		require.Equal(t, tries[0].body, d.body)
	}
	require.GreaterOrEqual(t, tries[1].at.Sub(tries[0].at), backoff, "the first retry waits the backoff")
	require.GreaterOrEqual(t, tries[2].at.Sub(tries[1].at), 2*backoff, "the next waits twice as long")
	rcv.none(t, 200*time.Millisecond)
	require.Eventually(t, func() bool {
		return e.fake.Webhooks() == fakereplicate.WebhookStats{Attempts: 3, Sent: 1, FailedAttempts: 2}
	}, 5*time.Second, 2*time.Millisecond)
}

func TestWebhookGivesUpAndNeverRetriesStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 30 * time.Millisecond, WebhookAttempts: 3, WebhookBackoff: 5 * time.Millisecond})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, func(int) int { return http.StatusServiceUnavailable })
	_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(),
		&replicate.Webhook{URL: rcv.url}, false)
	require.NoError(t, err)
	statuses := map[string]int{}
	for range 4 {
		statuses[rcv.next(t).status(t)]++
	}
	require.Equal(t, map[string]int{"processing": 1, "succeeded": 3}, statuses, "only the completed event is retried")
	rcv.none(t, 100*time.Millisecond)
	require.Eventually(t, func() bool {
		return e.fake.Webhooks() == fakereplicate.WebhookStats{Attempts: 4, FailedAttempts: 4, GaveUp: 2}
	}, 5*time.Second, 2*time.Millisecond)

	// A receiver that refuses connections fails its attempts the same way.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	e2 := newEnv(t, fakereplicate.Config{WebhookAttempts: 2, WebhookBackoff: 5 * time.Millisecond})
	_, err = e2.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(gone.URL), false)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return e2.fake.Webhooks() == fakereplicate.WebhookStats{Attempts: 2, FailedAttempts: 2, GaveUp: 1}
	}, 5*time.Second, 2*time.Millisecond)
}

func TestCanceledPredictionSendsCompleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{HangRate: 1})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, answer200)
	p, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(rcv.url), false)
	require.NoError(t, err)
	_, err = e.rc.CancelPrediction(t.Context(), p.ID)
	require.NoError(t, err)
	d := rcv.next(t)
	require.True(t, d.valid)
	require.Equal(t, "canceled", d.status(t))
}

func TestCloseStopsWebhookDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{WebhookBackoff: time.Hour})
	failing := newReceiver(t, fakereplicate.DefaultWebhookSecret, func(int) int { return http.StatusInternalServerError })
	testDone := make(chan struct{})
	defer close(testDone)
	arrived := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select { // holds the attempt until the fake abandons it
		case <-r.Context().Done():
		case <-testDone:
		}
	}))
	t.Cleanup(slow.Close)
	for _, url := range []string{failing.url, slow.URL} {
		_, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(url), false)
		require.NoError(t, err)
	}
	failing.next(t)
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow receiver got nothing")
	}
	require.Eventually(t, func() bool { return e.fake.Webhooks().FailedAttempts == 1 }, 5*time.Second, 2*time.Millisecond)

	start := time.Now()
	e.fake.Close() // one delivery waits an hour to retry, the other for its receiver
	require.Less(t, time.Since(start), 3*time.Second, "Close stops both")
	require.Equal(t, fakereplicate.WebhookStats{Attempts: 1, FailedAttempts: 1}, e.fake.Webhooks(),
		"the abandoned attempt is not counted")
	failing.none(t, 50*time.Millisecond)
}

func TestInvalidWebhookIs422(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{})
	for name, body := range map[string]string{
		"not a URL":     `{"input":{"prompt":"x"},"webhook":"not a url"}`,
		"not http":      `{"input":{"prompt":"x"},"webhook":"ftp://example.com/hook"}`,
		"unknown event": `{"input":{"prompt":"x"},"webhook":"https://example.com/hook","webhook_events_filter":["finished"]}`,
	} {
		resp, got := e.do(t, http.MethodPost, createPath, body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, name)
		require.Contains(t, string(got), "webhook", name)
	}
	require.Equal(t, fakereplicate.Stats{}, e.fake.Stats(), "nothing created")
}

// TestLogsBytesPadsTheCompletedWebhook: with LogsBytes, the completed event carries a
// prediction whose logs are at least that long, signed like any other, and a GET says the same.
func TestLogsBytesPadsTheCompletedWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakereplicate.Config{Latency: 10 * time.Millisecond, LogsBytes: 200 << 10})
	rcv := newReceiver(t, fakereplicate.DefaultWebhookSecret, answer200)
	p, err := e.rc.CreatePredictionWithModel(t.Context(), "black-forest-labs", "flux-schnell", prompt(), completed(rcv.url), false)
	require.NoError(t, err)
	got := rcv.next(t)
	require.True(t, got.valid)
	require.Equal(t, "succeeded", got.status(t))
	require.GreaterOrEqual(t, len(got.body), 200<<10)
	final := e.waitFinal(t, p.ID)
	require.NotNil(t, final.Logs)
	require.GreaterOrEqual(t, len(*final.Logs), 200<<10)
}

// TestSignWebhookValidatesWithReplicateGo: a delivery a test signs itself with SignWebhook
// passes replicate-go's check, and a secret without Replicate's shape is refused.
func TestSignWebhookValidatesWithReplicateGo(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"p1","status":"succeeded"}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/replicate", bytes.NewReader(body))
	require.NoError(t, fakereplicate.SignWebhook(req.Header, fakereplicate.DefaultWebhookSecret, "msg_1", time.Now(), body))
	ok, err := replicate.ValidateWebhookRequest(req, replicate.WebhookSigningSecret{Key: fakereplicate.DefaultWebhookSecret})
	require.NoError(t, err)
	require.True(t, ok)
	require.Error(t, fakereplicate.SignWebhook(http.Header{}, "not-a-secret", "msg_2", time.Now(), body))
}
