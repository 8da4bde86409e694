// Webhook bodies are sized for their senders: a 200 KB signed Replicate delivery and a
// 200 KB Stripe event are accepted and acted on; 5 MB bodies, announced or chunked, get a
// clean 413 with the JSON error over a real socket, and the connection stays usable; every
// other route keeps 64 KiB.

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
)

// bigPrediction is a failed prediction's delivery whose logs make it about size bytes.
func bigPrediction(id string, size int) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "status": "failed", "error": "out of memory", "logs": strings.Repeat("step 1/50 ok\n", size/13),
		"input": map[string]any{"seed": 7, "prompt": "p"}, "created_at": time.Now().Format(time.RFC3339),
	})
	return b
}

func TestLargeReplicateWebhookIsActedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(noLimits), withParts(withReplicateWebhooks))
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "big@example.com", "p")
	require.NoError(t, err)
	_, err = e.db.Pool.Exec(ctx, `INSERT INTO predictions (subscriber_id, provider_id, status, seed) VALUES ($1, 'p_big', 'starting', 7)`,
		uuid.MustParse(sub.SubscriberID))
	require.NoError(t, err)

	body := bigPrediction("p_big", 200_000)
	require.Greater(t, len(body), 200_000)
	resp, err := e.c.Do(ctx, http.MethodPost, "/webhooks/replicate", body, signReplicate(body, time.Now()))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.JSONEq(t, `{"received":true,"outcome":"recorded"}`, string(resp.Body))
	var status string
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT status FROM predictions WHERE provider_id = 'p_big'`).Scan(&status))
	require.Equal(t, "failed", status)
}

func TestLargeStripeEventIsActedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(noLimits))
	ctx := context.Background()
	sub, err := e.c.CreateSubscriber(ctx, "bigstripe@example.com", "p")
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(demo.CheckoutCompleted("evt_big", sub.SubscriberID, "bigstripe@example.com"), &ev))
	ev["data"].(map[string]any)["object"].(map[string]any)["metadata"] = map[string]any{"notes": strings.Repeat("x", 200_000)}
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	resp, err := e.c.SendWebhook(ctx, secret, body, time.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	st, err := e.c.GetStatus(ctx, sub.AccessToken)
	require.NoError(t, err)
	require.Equal(t, "queued", st.State)
}

// chunked hides a reader's length, so that the client sends it chunked.
type chunked struct{ io.Reader }

func TestOversizeBodiesGetACleanJSON413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(noLimits), withParts(withReplicateWebhooks))
	ctx := context.Background()
	// One connection for every request: each 413 must leave it usable.
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	huge := bigPrediction("p_huge", 5<<20)
	post := func(path string, body io.Reader, h http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+path, body)
		require.NoError(t, err)
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err, "POST %s: the connection broke instead of an answer", path)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	check := func(path string, limit string, resp *http.Response, b []byte) {
		t.Helper()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "POST %s: %s", path, b)
		var got struct {
			Error struct{ Code, Message string }
		}
		require.NoError(t, json.Unmarshal(b, &got), "POST %s: %s", path, b)
		require.Equal(t, "body_too_large", got.Error.Code)
		require.Contains(t, got.Error.Message, limit)
	}
	for _, path := range []string{"/webhooks/replicate", "/webhooks/stripe"} {
		resp, b := post(path, bytes.NewReader(huge), signReplicate(huge, time.Now()))
		check(path, "1 MiB", resp, b)
		resp, b = post(path, chunked{bytes.NewReader(huge)}, signReplicate(huge, time.Now()))
		check(path, "1 MiB", resp, b)
	}
	// Every other route keeps 64 KiB, announced or chunked.
	small := bytes.Repeat([]byte("a"), 200_000)
	resp, b := post("/api/blueprint/subscribers", bytes.NewReader(small), nil)
	check("/api/blueprint/subscribers", "64 KiB", resp, b)
	resp, b = post("/api/blueprint/generate-paid", chunked{bytes.NewReader(small)}, nil)
	check("/api/blueprint/generate-paid", "64 KiB", resp, b)
	// And the connection still answers.
	resp, b = post("/api/blueprint/subscribers", strings.NewReader(`{"email":"after@example.com","strategy":{"prompt":"p"}}`), nil)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", b)
}
