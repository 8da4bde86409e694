// This file is generate-paid: the front end asks that a paid subscriber's photos be made.

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"photogen/generation"
	"photogen/store"
)

type generateRequest struct {
	AccessToken string `json:"accessToken"`
}

type generateResponse struct {
	Success          bool   `json:"success"`
	AlreadyGenerated bool   `json:"alreadyGenerated,omitempty"`
	InProgress       bool   `json:"inProgress,omitempty"`
	State            string `json:"state"`
	TotalPhotos      int    `json:"totalPhotos"`
	TargetPhotos     int    `json:"targetPhotos"`
	Message          string `json:"message"`
}

func (s *Server) handleGeneratePaid(c *gin.Context) {
	var req generateRequest
	if err := bindJSON(c, &req); err != nil {
		renderError(c, err)
		return
	}
	resp, err := s.generatePaid(c.Request.Context(), req)
	if err != nil {
		renderError(c, err)
		return
	}
	status := http.StatusAccepted
	if resp.AlreadyGenerated {
		status = http.StatusOK
	}
	c.JSON(status, resp)
}

// generatePaid makes sure a paid subscriber's generation is under way, and never
// starts a second one: the subscriber's row is locked while deciding, and the job
// insert is unique per subscriber while one waits or runs.
func (s *Server) generatePaid(ctx context.Context, req generateRequest) (generateResponse, error) {
	if req.AccessToken == "" {
		return generateResponse{}, errBadRequest("missing_token", "accessToken is required")
	}
	if !validTokenShape(req.AccessToken) {
		return generateResponse{}, errNotFound("no subscriber has this access token")
	}
	var resp generateResponse
	var changed *generation.Subscriber
	defer func() {
		if changed != nil { // committed or not: this process's next answer reads it again
			s.statusCache.Changed(changed.ID)
		}
	}()
	err := s.store.WithTx(ctx, func(tx *store.Store) error {
		sub, err := tx.SubscriberByTokenHash(ctx, hashToken(req.AccessToken))
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound("no subscriber has this access token")
		}
		if err != nil {
			return err
		}
		changed = sub
		if sub, err = generation.Request(ctx, tx, s.jobs, sub.ID); err != nil {
			return err
		}
		switch sub.Status {
		case generation.StatusAwaitingPayment:
			return &Error{Status: http.StatusPaymentRequired, Code: "payment_required", Message: "this subscriber has not paid yet"}
		case generation.StatusRefunded:
			return &Error{Status: http.StatusPaymentRequired, Code: "refunded", Message: "this subscriber's payment was refunded"}
		case generation.StatusCompleted:
			resp = generateResponse{Success: true, AlreadyGenerated: true, State: string(sub.Status),
				TotalPhotos: len(sub.PhotoURLs), TargetPhotos: sub.TargetPhotos, Message: "all photos are ready"}
			return nil
		}
		resp = generateResponse{Success: true, InProgress: true, State: string(sub.Status),
			TotalPhotos: len(sub.PhotoURLs), TargetPhotos: sub.TargetPhotos,
			Message: fmt.Sprintf("Generation in progress: %d/%d photos complete.", len(sub.PhotoURLs), sub.TargetPhotos)}
		return nil
	})
	return resp, err
}
