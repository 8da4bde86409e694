// This file is sign-up: a subscriber awaiting payment, and their access token, given once.

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"photogen/store"
)

// MaxPromptChars is the longest prompt accepted, in characters.
const MaxPromptChars = 4000

// MaxStrategyBytes is the largest strategy stored, as compact JSON: room for a prompt
// of MaxPromptChars in any script (at most 4 bytes each) and 4 KiB of other settings.
const MaxStrategyBytes = 20 << 10

type createSubscriberRequest struct {
	Email    string         `json:"email"`
	Strategy map[string]any `json:"strategy"`
}

type createSubscriberResponse struct {
	SubscriberID uuid.UUID `json:"subscriberId"`
	AccessToken  string    `json:"accessToken"`
}

func (s *Server) handleCreateSubscriber(c *gin.Context) {
	var req createSubscriberRequest
	if err := bindJSON(c, &req); err != nil {
		renderError(c, err)
		return
	}
	resp, err := s.createSubscriber(c.Request.Context(), req)
	if err != nil {
		renderError(c, err)
		return
	}
	// The answer carries the access token: no cache may keep it.
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, resp)
}

// createSubscriber validates and stores a subscriber awaiting payment. The access
// token is returned here once; only its hash is kept.
func (s *Server) createSubscriber(ctx context.Context, req createSubscriberRequest) (createSubscriberResponse, error) {
	email := strings.TrimSpace(req.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 320 || !plainText(email) {
		return createSubscriberResponse{}, errBadRequest("invalid_email", "email must be a plain address such as ann@example.com")
	}
	prompt, _ := req.Strategy["prompt"].(string)
	prompt = strings.TrimSpace(prompt)
	switch {
	case prompt == "":
		return createSubscriberResponse{}, errBadRequest("invalid_prompt", "strategy.prompt is required")
	case utf8.RuneCountInString(prompt) > MaxPromptChars:
		return createSubscriberResponse{}, errBadRequest("invalid_prompt", "strategy.prompt is longer than 4000 characters")
	case strings.ContainsFunc(prompt, isControl):
		return createSubscriberResponse{}, errBadRequest("invalid_prompt", "strategy.prompt contains control characters")
	case !strings.ContainsFunc(prompt, isVisible):
		return createSubscriberResponse{}, errBadRequest("invalid_prompt", "strategy.prompt has no visible character")
	}
	req.Strategy["prompt"] = prompt
	if strategySize(req.Strategy) > MaxStrategyBytes {
		return createSubscriberResponse{}, errBadRequest("strategy_too_large", "strategy is larger than 20 KiB")
	}
	token, hash := newAccessToken()
	id, err := s.store.CreateSubscriber(ctx, store.NewSubscriber{
		Email: email, Strategy: req.Strategy, AccessTokenHash: hash, TargetPhotos: s.cfg.TargetPhotos,
	})
	if err != nil {
		if isConflict(err) {
			return createSubscriberResponse{}, &Error{Status: http.StatusConflict, Code: "email_taken", Message: "a subscriber with this email already exists"}
		}
		return createSubscriberResponse{}, err
	}
	return createSubscriberResponse{SubscriberID: id, AccessToken: token}, nil
}

// plainText reports whether s has only printable characters and no space: no control,
// format (zero-width, bidi), private-use or unassigned code point.
func plainText(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' })
}

// isControl is a C0 or C1 control other than tab and line breaks.
func isControl(r rune) bool { return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' }

// isVisible is a letter, digit, punctuation or symbol: what a prompt needs one of.
func isVisible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S)
}

// strategySize is the strategy's length as compact JSON, HTML characters unescaped.
func strategySize(v map[string]any) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return MaxStrategyBytes + 1 // cannot happen for decoded JSON; refuse rather than store
	}
	return b.Len() - 1 // Encode adds a newline
}
