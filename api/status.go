// This file is the status poll: one indexed query, answered with an ETag.

package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

type statusResponse struct {
	State        string   `json:"state"`
	Paid         bool     `json:"paid"`
	TotalPhotos  int      `json:"totalPhotos"`
	TargetPhotos int      `json:"targetPhotos"`
	PhotoURLs    []string `json:"photoUrls"`
	UpdatedAt    string   `json:"updatedAt"`
	Error        *string  `json:"error"`
}

// handleStatus answers the front end's poll with one indexed query. The ETag is a hash
// of the body, so If-None-Match gets 304 until something the client sees changes.
func (s *Server) handleStatus(c *gin.Context) {
	resp, err := s.status(c.Request.Context(), accessToken(c))
	if err != nil {
		renderError(c, err)
		return
	}
	body, err := json.Marshal(resp)
	if err != nil {
		renderError(c, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	c.Header("ETag", etag)
	c.Header("Cache-Control", "private, no-cache")
	if etagMatches(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

func (s *Server) status(ctx context.Context, token string) (statusResponse, error) {
	sub, err := s.subscriberByToken(ctx, token)
	if err != nil {
		return statusResponse{}, err
	}
	urls := sub.PhotoURLs
	if urls == nil {
		urls = []string{}
	}
	return statusResponse{
		State: string(sub.Status), Paid: sub.PaidAt != nil, TotalPhotos: len(urls),
		TargetPhotos: sub.TargetPhotos, PhotoURLs: urls,
		UpdatedAt: sub.UpdatedAt.UTC().Format(time.RFC3339), Error: sub.Error,
	}, nil
}

// etagMatches implements If-None-Match's list and wildcard forms (weak comparison).
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}
