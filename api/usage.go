package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"photogen/store"
)

// usageView is one counter as the usage endpoints show it.
type usageView struct {
	Counter   string `json:"counter"`
	Used      int    `json:"used"`
	Limit     int    `json:"limit"`
	Remaining int    `json:"remaining"`
	ResetsAt  string `json:"resetsAt"`
}

// refusedBody is the 403 answer: the usual error plus the counter's state.
type refusedBody struct {
	Error errorDetail `json:"error"`
	usageView
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// consumeAnswer is what a consume call answers, first time or replayed.
type consumeAnswer struct {
	Status int
	Body   []byte
	View   usageView
}

func (s *Server) handleConsume(c *gin.Context) {
	counter := c.Param("counter")
	limit, ok := s.cfg.Limits[counter]
	if !ok {
		renderError(c, &Error{Status: http.StatusNotFound, Code: "unknown_counter", Message: "no counter named " + strconv.Quote(counter)})
		return
	}
	body, err := readBody(c)
	if err != nil {
		renderError(c, err)
		return
	}
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		renderError(c, errBadRequest("malformed_json", "the request body, when present, must be JSON"))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 255 {
		renderError(c, errBadRequest("invalid_idempotency_key", "Idempotency-Key is longer than 255 characters"))
		return
	}
	ans, err := s.consume(c.Request.Context(), userFrom(c), counter, limit, key)
	if err != nil {
		renderError(c, err)
		return
	}
	if s.metrics != nil {
		s.metrics.CounterCall(counter, ans.Status == http.StatusOK)
	}
	setRateLimitHeaders(c, ans.View)
	if key != "" {
		c.Header("Idempotency-Key", key)
	}
	c.Data(ans.Status, "application/json; charset=utf-8", ans.Body)
}

// consume counts one use through the locked SQL function. With an Idempotency-Key the
// key is claimed, the increment made and the answer stored in one transaction, so a
// retry, even a parallel one, gets the first answer and consumes nothing more.
func (s *Server) consume(ctx context.Context, user uuid.UUID, counter string, limit int, key string) (consumeAnswer, error) {
	if key == "" {
		u, err := s.store.ConsumeUsage(ctx, user, counter, limit)
		if err != nil {
			return consumeAnswer{}, err
		}
		return answerFor(u, limit)
	}
	var ans consumeAnswer
	err := s.store.WithTx(ctx, func(tx *store.Store, _ pgx.Tx) error {
		stored, err := tx.ClaimIdempotencyKey(ctx, user, key, counter)
		if errors.Is(err, store.ErrKeyReused) {
			return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
				Message: "this Idempotency-Key was used for another counter"}
		}
		if err != nil {
			return err
		}
		if stored != nil {
			ans = consumeAnswer{Status: stored.Status, Body: stored.Body}
			return json.Unmarshal(stored.Body, &ans.View)
		}
		u, err := tx.ConsumeUsage(ctx, user, counter, limit)
		if err != nil {
			return err
		}
		if ans, err = answerFor(u, limit); err != nil {
			return err
		}
		return tx.StoreIdempotentAnswer(ctx, user, key, store.StoredAnswer{Status: ans.Status, Body: ans.Body})
	})
	return ans, err
}

func answerFor(u store.Usage, limit int) (consumeAnswer, error) {
	view := viewOf(u.Counter, u.Used, limit, u.PeriodStart)
	var body any = view
	status := http.StatusOK
	if !u.Accepted {
		status = http.StatusForbidden
		body = refusedBody{Error: errorDetail{Code: "limit_exceeded",
			Message: "the monthly limit of " + strconv.Itoa(limit) + " " + u.Counter + " is reached"}, usageView: view}
	}
	b, err := json.Marshal(body)
	return consumeAnswer{Status: status, Body: b, View: view}, err
}

func viewOf(counter string, used, limit int, periodStart time.Time) usageView {
	return usageView{Counter: counter, Used: used, Limit: limit, Remaining: max(0, limit-used),
		ResetsAt: periodStart.UTC().AddDate(0, 1, 0).Format(time.RFC3339)}
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
	used, err := s.store.UsageFor(c.Request.Context(), userFrom(c))
	if err != nil {
		renderError(c, err)
		return
	}
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	resp := usageListResponse{Counters: []usageView{}}
	for _, name := range s.cfg.Limits.Names() {
		resp.Counters = append(resp.Counters, viewOf(name, used[name], s.cfg.Limits[name], month))
	}
	c.JSON(http.StatusOK, resp)
}
