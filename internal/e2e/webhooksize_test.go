package e2e

// This file is issue 18's webhook-size line: Replicate posts the whole prediction, its
// logs included, so a chatty model's completed webhook is hundreds of KB; the api must
// accept and act on it, and answer a body beyond its limit with a clean 413.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// TestReplicateWebhookSizes: with every completed webhook 200 KB (LogsBytes), a generation
// completes on the webhooks alone, each accepted at its first attempt and no prediction
// checked; a signed 5 MB webhook gets a 413 with the JSON error, not a broken connection.
func TestReplicateWebhookSizes(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 300 * time.Millisecond, LogsBytes: 200 << 10}, nil)
	_, c := s.startAPI(t)

	// First the 5 MB one, on its own: a failure here says nothing of the 200 KB ones.
	body, err := json.Marshal(map[string]any{"id": "big5mbprediction0000000000", "status": "succeeded",
		"logs": strings.Repeat("100%|##########| 4/4 [00:00<00:00,  6.12it/s]\n", 5<<20/46+1)})
	require.NoError(t, err)
	signed := http.Header{}
	require.NoError(t, fakereplicate.SignWebhook(signed, s.fake.WebhookSecret(), "msg_big5mb", time.Now(), body))
	resp, err := c.Do(context.Background(), http.MethodPost, "/webhooks/replicate", body, signed)
	if assert.NoError(t, err, "a 5 MB webhook is answered, not cut off") {
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.Status, "%s", resp.Body)
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		assert.NoError(t, json.Unmarshal(resp.Body, &e), "a JSON error: %s", resp.Body)
		assert.NotEmpty(t, e.Error.Code)
	}

	s.startWorker(t)
	sub := paySubscribers(t, c, 1)[0]
	// Well inside REPLICATE_WEBHOOK_CHECK_AFTER (30 s): only the webhooks can have done it.
	requireThirtyUnique(t, waitState(t, c, sub.AccessToken, "completed", 25*time.Second))
	hooks := s.fake.Webhooks()
	require.Positive(t, hooks.Sent)
	require.Zero(t, hooks.FailedAttempts, "every 200 KB webhook accepted at its first attempt")
	require.Zero(t, s.fake.Calls().Get.Calls, "no prediction needed a check")
}
