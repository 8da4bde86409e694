// This file is the usage counters' HTTP surface: bind, call usage.Service, render.

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"photogen/usage"
)

// usageView is one counter as the usage endpoints show it.
type usageView struct {
	Counter   string `json:"counter"`
	Used      int    `json:"used"`
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	ResetsAt  string `json:"resetsAt"`
}

func viewOf(r usage.Result) usageView {
	return usageView{Counter: r.Counter, Used: r.Used, Limit: r.Limit, Remaining: r.Remaining(),
		ResetsAt: usage.ResetsAt(r.PeriodStart).Format(time.RFC3339)}
}

// refusedBody is the 403 answer: the usual error body plus the counter's state.
type refusedBody struct {
	errorBody
	usageView
}

func (s *Server) handleConsume(c *gin.Context) {
	body, err := readBody(c)
	if err != nil {
		renderError(c, err)
		return
	}
	if err := checkJSONText(body); err != nil {
		renderError(c, err)
		return
	}
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		renderError(c, errBadRequest("malformed_json", "the request body, when present, must be JSON"))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		renderError(c, err)
		return
	}
	counter := c.Param("counter")
	ans, err := s.usage.Consume(c.Request.Context(), userFrom(c), counter, key, consumeAnswer)
	switch {
	case errors.Is(err, usage.ErrUnknownCounter):
		err = &Error{Status: http.StatusNotFound, Code: "unknown_counter", Message: "no counter named " + strconv.Quote(counter)}
	case errors.Is(err, usage.ErrKeyReused):
		err = &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
			Message: "this Idempotency-Key was used for another counter"}
	}
	if err != nil {
		renderError(c, err)
		return
	}
	var view usageView
	if err := json.Unmarshal(ans.Body, &view); err == nil {
		setRateLimitHeaders(c, view)
	}
	if key != "" {
		c.Header("Idempotency-Key", key)
	}
	c.Data(ans.Status, "application/json; charset=utf-8", ans.Body)
}

// checkIdempotencyKey refuses a key the database would not store as text, or that
// could not be shown back: longer than 255 bytes, not UTF-8, or with control characters.
func checkIdempotencyKey(key string) error {
	switch {
	case len(key) > 255:
		return errBadRequest("invalid_idempotency_key", "Idempotency-Key is longer than 255 characters")
	case !utf8.ValidString(key):
		return errBadRequest("invalid_idempotency_key", "Idempotency-Key is not valid UTF-8")
	case strings.ContainsFunc(key, unicode.IsControl):
		return errBadRequest("invalid_idempotency_key", "Idempotency-Key contains control characters")
	}
	return nil
}

// consumeAnswer renders a consume result: 200 with the counter, or 403 with the error
// and the counter. Its bytes are what an Idempotency-Key replays.
func consumeAnswer(r usage.Result) (usage.Answer, error) {
	view := viewOf(r)
	var body any = view
	status := http.StatusOK
	if !r.Accepted {
		status = http.StatusForbidden
		body = refusedBody{errorBody: newErrorBody("limit_exceeded",
			"the monthly limit of "+strconv.Itoa(r.Limit)+" "+r.Counter+" is reached"), usageView: view}
	}
	b, err := json.Marshal(body)
	return usage.Answer{Status: status, Body: b}, err
}

// setRateLimitHeaders follows the X-RateLimit-* convention: limit, remaining, and the
// reset as Unix seconds.
func setRateLimitHeaders(c *gin.Context, v usageView) {
	c.Header("X-RateLimit-Limit", strconv.Itoa(v.Limit))
	c.Header("X-RateLimit-Remaining", strconv.Itoa(v.Remaining))
	if t, err := time.Parse(time.RFC3339, v.ResetsAt); err == nil {
		c.Header("X-RateLimit-Reset", strconv.FormatInt(t.Unix(), 10))
	}
}

type usageListResponse struct {
	Counters []usageView `json:"counters"`
}

func (s *Server) handleUsage(c *gin.Context) {
	results, err := s.usage.List(c.Request.Context(), userFrom(c), time.Now())
	if err != nil {
		renderError(c, err)
		return
	}
	resp := usageListResponse{Counters: []usageView{}}
	for _, r := range results {
		resp.Counters = append(resp.Counters, viewOf(r))
	}
	c.JSON(http.StatusOK, resp)
}
