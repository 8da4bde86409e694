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

	"photogen/generation"
)

type statusResponse struct {
	State        string   `json:"state"`
	Paid         bool     `json:"paid"`
	TotalPhotos  int      `json:"totalPhotos"`
	TargetPhotos int      `json:"targetPhotos"`
	PhotoURLs    []string `json:"photoUrls"`
	UpdatedAt    string   `json:"updatedAt"`
	Error        *string  `json:"error"`
	Delay        *delay   `json:"delay"`
}

// delay is a generation waiting out an outage (Delay in the OpenAPI document).
type delay struct {
	Reason string `json:"reason"`
	Since  string `json:"since"`
}

// delayOf is sub's delay as the status and the event stream show it: only while it
// generates (a delay is cleared by the worker's next call that works, or by the end).
func delayOf(sub *generation.Subscriber) *delay {
	if sub.Delay == nil || sub.Status != generation.StatusGenerating {
		return nil
	}
	return &delay{Reason: string(sub.Delay.Reason), Since: sub.Delay.Since.UTC().Format(time.RFC3339)}
}

// handleStatus answers the front end's poll with one indexed query, or from the status
// cache. The ETag is a hash of the body, so If-None-Match gets 304 until something the
// client sees changes. The headers' values are built once (below, and the answer's
// etagHeader): the poll is the api's most frequent request.
func (s *Server) handleStatus(c *gin.Context) {
	a, err := s.statusAnswer(c.Request.Context(), accessToken(c))
	if err != nil {
		renderError(c, err)
		return
	}
	h := c.Writer.Header()
	h[etagKey] = a.etagHeader
	h[cacheControlKey] = statusCacheControl
	if etagMatches(c.GetHeader("If-None-Match"), a.etag) {
		c.Status(http.StatusNotModified)
		return
	}
	// What c.Data(200, "application/json; charset=utf-8", a.body) does, without building
	// the Content-Type's value each time.
	h[contentTypeKey] = statusContentType
	c.Status(http.StatusOK)
	if _, err := c.Writer.Write(a.body); err != nil {
		_ = c.Error(err)
		c.Abort()
	}
}

// The status answer's header keys, canonical, and its constant values. A value slice is
// shared by every answer: net/http and gin only read it or replace it (Set and Del
// replace it, Add appends to a copy: each has length and capacity 1).
var (
	etagKey            = http.CanonicalHeaderKey("ETag")
	cacheControlKey    = http.CanonicalHeaderKey("Cache-Control")
	contentTypeKey     = http.CanonicalHeaderKey("Content-Type")
	statusCacheControl = []string{"private, no-cache"}
	statusContentType  = []string{"application/json; charset=utf-8"}
)

// statusAnswer returns the status answer of the subscriber whose access token is token:
// the one kept in the status cache, or one read from the database (then kept).
func (s *Server) statusAnswer(ctx context.Context, token string) (statusAnswer, error) {
	if err := checkToken(token); err != nil {
		return statusAnswer{}, err
	}
	key := tokenKey(token)
	a, version, ok := s.statusCache.get(key)
	if ok {
		return a, nil
	}
	hash := key // escapes with the query: copied here, so that a hit allocates no key
	sub, err := s.subscriberByHash(ctx, hash[:])
	if err != nil {
		return statusAnswer{}, err
	}
	body, err := json.Marshal(statusOf(sub))
	if err != nil {
		return statusAnswer{}, err
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	a = statusAnswer{id: sub.ID, body: body, etag: etag, etagHeader: []string{etag}}
	s.statusCache.put(version, key, a)
	return a, nil
}

// statusOf is the status endpoint's view of sub.
func statusOf(sub *generation.Subscriber) statusResponse {
	urls := sub.PhotoURLs
	if urls == nil {
		urls = []string{}
	}
	return statusResponse{
		State: string(sub.Status), Paid: sub.PaidAt != nil, TotalPhotos: len(urls),
		TargetPhotos: sub.TargetPhotos, PhotoURLs: urls,
		UpdatedAt: sub.UpdatedAt.UTC().Format(time.RFC3339), Error: sub.Error, Delay: delayOf(sub),
	}
}

// etagMatches implements If-None-Match's list and wildcard forms (weak comparison).
func etagMatches(header, etag string) bool {
	for header != "" {
		var candidate string
		candidate, header, _ = strings.Cut(header, ",")
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}
