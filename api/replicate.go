// This file is Replicate's webhook: verify the delivery, record the prediction's
// outcome in the ledger and wake its generation, all within milliseconds; the worker
// downloads and stores the image.

package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"photogen/generation"
	"photogen/store"
)

// ReplicateWebhooks verifies a Replicate webhook delivery and decodes its prediction.
// provider.WebhookVerifier implements it (with replicate-go, which the api does not
// import).
type ReplicateWebhooks interface {
	Verify(ctx context.Context, header http.Header, body []byte) (generation.Prediction, error)
}

// maxPredictionID is the longest prediction id recorded; Replicate's are 26 characters.
const maxPredictionID = 255

type replicateWebhookResponse struct {
	Received bool   `json:"received"`
	Outcome  string `json:"outcome"`
}

func (s *Server) handleReplicateWebhook(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		renderError(c, err)
		return
	}
	ctx := c.Request.Context()
	p, err := s.replicate.Verify(ctx, c.Request.Header, body)
	if err != nil {
		code, refused := s.webhookRefused(err)
		if !refused {
			renderError(c, err)
			return
		}
		s.observeWebhook("invalid", "")
		loggerFrom(c).WarnContext(ctx, "replicate webhook refused", "reason", err.Error())
		renderError(c, errBadRequest(code, err.Error()))
		return
	}
	if err := checkJSONText(body); err != nil {
		renderError(c, err)
		return
	}
	if len(p.ID) > maxPredictionID {
		renderError(c, errBadRequest("malformed_prediction", "the prediction id is longer than 255 bytes"))
		return
	}
	var res generation.RecordResult
	err = s.store.WithTx(ctx, func(tx *store.Store) error {
		var err error
		res, err = generation.Record(ctx, tx, s.jobs, p)
		return err
	})
	if err != nil {
		renderError(c, err)
		return
	}
	status, _, _ := p.Ledger()
	s.observeWebhook(string(res), status)
	log := loggerFrom(c).With("prediction_id", p.ID, "status", p.Status)
	switch res {
	case generation.Unknown:
		log.WarnContext(ctx, "replicate webhook for a prediction photogen does not know")
	case generation.Duplicate:
		log.InfoContext(ctx, "replicate webhook changed nothing (repeat or late)")
	}
	c.JSON(http.StatusOK, replicateWebhookResponse{Received: true, Outcome: string(res)})
}

func (s *Server) observeWebhook(outcome string, status generation.PredictionStatus) {
	if s.metrics == nil {
		return
	}
	s.metrics.WebhookReceived(outcome)
	if outcome == string(generation.Recorded) {
		switch status {
		case generation.PredictionFailed, generation.PredictionCanceled, generation.PredictionAborted:
			s.metrics.PredictionFinished(string(status))
		}
	}
}
