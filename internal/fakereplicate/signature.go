package fakereplicate

// This file signs webhooks the way Replicate does (Standard Webhooks) and serves the
// account's signing secret.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"
)

// sign returns the webhook-signature of a delivery: "v1," and the standard base64 of
// HMAC-SHA256(key, id + "." + timestamp + "." + body).
func sign(key []byte, id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signHeaders sets the three Standard Webhooks headers of a delivery of body, identified
// by id, made at now.
func signHeaders(h http.Header, key []byte, id string, now time.Time, body []byte) {
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", sign(key, id, now, body))
}

// handleWebhookSecret serves GET /v1/webhooks/default/secret: 200 with {"key": secret},
// what replicate-go's GetDefaultWebhookSecret reads.
func (s *Server) handleWebhookSecret(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"key": s.cfg.WebhookSecret})
}
