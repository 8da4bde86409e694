package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
)

// TestLogsCarryNoSecrets runs a full flow (sign-up, signed webhook, generate-paid, status
// polls with the token in the header and in the query, usage calls with a JWT, the admin
// UI) and finds no access token, webhook secret, JWT, provider token, operator token or
// photo-name secret in any log line of the api or the worker; and every line is JSON.
// The processes log at debug, so that the lines an operator turns on when looking into
// a problem are searched too (the successful status polls among them).
func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 20 * time.Millisecond}, map[string]string{
		"AUTH_JWT_SECRET": jwtSecret, "OPERATOR_TOKEN": "op-token-in-logs-test", "LOG_LEVEL": "debug"})
	api, c := s.startAPI(t)
	w := s.startWorker(t)
	ctx := context.Background()
	sub := paySubscribers(t, c, 1)[0]
	resp, err := c.Do(ctx, http.MethodPost, "/api/blueprint/generate-paid", []byte(`{"accessToken":"`+sub.AccessToken+`"}`), nil)
	require.NoError(t, err)
	require.Contains(t, []int{200, 202}, resp.Status)
	waitState(t, c, sub.AccessToken, "completed", 30*time.Second)
	_, err = c.Do(ctx, http.MethodGet, "/api/blueprint/status?accessToken="+sub.AccessToken, nil, nil)
	require.NoError(t, err)
	token := userJWT(t, uuid.New())
	require.Equal(t, 200, consume(t, c, token, "resumes", nil).Status)
	_, err = c.Do(ctx, http.MethodGet, "/admin/river/", nil, http.Header{"Authorization": {"Bearer op-token-in-logs-test"}})
	require.NoError(t, err)
	_, err = c.Do(ctx, http.MethodGet, "/api/blueprint/status", nil, http.Header{"Authorization": {"Bearer " + strings.Repeat("x", 43)}})
	require.NoError(t, err)

	logs := api.Output() + w.Output()
	for name, secret := range map[string]string{
		"access token": sub.AccessToken, "webhook secret": webhookSecret, "JWT": token, "JWT secret": jwtSecret,
		"provider token": s.env["REPLICATE_API_TOKEN"], "operator token": "op-token-in-logs-test",
		"photo name secret": s.env["PHOTO_NAME_SECRET"],
	} {
		require.NotContains(t, logs, secret, "the %s is in the logs", name)
	}
	var requests, polls, attempts int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "not JSON: %s", line)
		switch entry["msg"] {
		case "request":
			requests++
			require.NotEmpty(t, entry["request_id"])
			if entry["route"] == "/api/blueprint/status" && entry["status"] == float64(http.StatusOK) {
				polls++
				require.Equal(t, "DEBUG", entry["level"])
			}
		case "generation attempt started":
			attempts++
			require.Equal(t, sub.SubscriberID, entry["subscriber_id"])
		}
	}
	require.Positive(t, requests)
	require.Positive(t, polls, "the successful status polls are logged at debug")
	require.Equal(t, 1, attempts, "one line per job attempt, with the subscriber id")
}
