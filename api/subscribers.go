// This file is sign-up: a subscriber awaiting payment, and their access token, given once.

package api

import (
	"context"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"photogen/store"
)

// MaxPromptChars is the longest prompt accepted, in characters.
const MaxPromptChars = 4000

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
	c.JSON(http.StatusCreated, resp)
}

// createSubscriber validates and stores a subscriber awaiting payment. The access
// token is returned here once; only its hash is kept.
func (s *Server) createSubscriber(ctx context.Context, req createSubscriberRequest) (createSubscriberResponse, error) {
	email := strings.TrimSpace(req.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 320 {
		return createSubscriberResponse{}, errBadRequest("invalid_email", "email must be a plain address such as ann@example.com")
	}
	prompt, _ := req.Strategy["prompt"].(string)
	prompt = strings.TrimSpace(prompt)
	switch {
	case prompt == "":
		return createSubscriberResponse{}, errBadRequest("invalid_prompt", "strategy.prompt is required")
	case utf8.RuneCountInString(prompt) > MaxPromptChars:
		return createSubscriberResponse{}, errBadRequest("invalid_prompt", "strategy.prompt is longer than 4000 characters")
	}
	req.Strategy["prompt"] = prompt
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
