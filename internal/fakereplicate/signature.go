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

// SignWebhook sets on h the Standard Webhooks headers (webhook-id, webhook-timestamp,
// webhook-signature) of a delivery of body identified by id and made at now, signed with
// secret ("whsec_" and the base64 key) as the fake and Replicate sign theirs: for tests
// that deliver a webhook of their own. It fails only for a secret without that shape.
func SignWebhook(h http.Header, secret, id string, now time.Time, body []byte) error {
	key, err := webhookKey(secret)
	if err != nil {
		return err
	}
	signHeaders(h, key, id, now, body)
	return nil
}
