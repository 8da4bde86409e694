// This file is where errors become responses, and where bodies are read and bounded.

package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"photogen/store"
)

// Error is an error a client may see: its status, a stable code and a message.
// Anything else that reaches renderError is logged and answered 500 without its text.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errBadRequest(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

func errNotFound(msg string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: msg}
}

// errorBody is the one error body every endpoint answers: {"error":{"code","message"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func newErrorBody(code, msg string) errorBody {
	return errorBody{Error: errorDetail{Code: code, Message: msg}}
}

// renderError is the one place errors become responses.
func renderError(c *gin.Context, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, store.ErrNotFound):
		e = errNotFound("not found")
	case errors.Is(err, store.ErrConflict):
		e = &Error{Status: http.StatusConflict, Code: "conflict", Message: "already exists"}
	case store.Unreachable(err), store.Contended(err):
		// Unreachable, or a lock held past lock_timeout (a stuck or vanished session's,
		// until PostgreSQL ends it): both pass, and the sender retries.
		loggerFrom(c).WarnContext(c.Request.Context(), "database unavailable", "err", err)
		c.Header("Retry-After", retryAfterSeconds)
		e = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: "the service cannot reach its database for a moment; retry after Retry-After seconds"}
	default:
		loggerFrom(c).ErrorContext(c.Request.Context(), "request failed", "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	c.AbortWithStatusJSON(e.Status, newErrorBody(e.Code, e.Message))
}

// limitBody refuses bodies over their route's limit (limitOf) with 413: at once when
// Content-Length says so, and while reading otherwise (readBody). Either way it first
// reads and discards what the client sends, up to maxDrain, so that the client, still
// sending, reads the 413 instead of a reset connection, and the connection stays usable.
func limitBody(limitOf func(*gin.Context) int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := limitOf(c)
		if c.Request.ContentLength > n {
			drain(c.Request.Body)
			renderError(c, errTooLarge(n))
			return
		}
		if c.Request.Body != http.NoBody { // a request without a body (a GET) has nothing to bound
			c.Request.Body = &boundedBody{ReadCloser: http.MaxBytesReader(c.Writer, c.Request.Body, n), raw: c.Request.Body}
		}
		c.Next()
	}
}

// maxDrain is the most of a refused body the api reads to answer it cleanly; a larger
// one gets its 413 and then the connection is closed (net/http's own behaviour).
const maxDrain = 16 << 20

// drain reads and discards up to maxDrain bytes of body. The server's ReadTimeout bounds
// the time it takes.
func drain(body io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain)) }

// boundedBody is a request body behind http.MaxBytesReader that can drain the rest of
// the raw body once the limit has been passed.
type boundedBody struct {
	io.ReadCloser
	raw io.Reader
}

func errTooLarge(n int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: "request body is larger than " + humanBytes(n)}
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	if n%1024 == 0 {
		return strconv.FormatInt(n/1024, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// readBody reads the whole (limited) body.
func readBody(c *gin.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		if b, ok := c.Request.Body.(*boundedBody); ok {
			drain(b.raw)
		}
		return nil, errTooLarge(tooLarge.Limit)
	}
	if err != nil {
		return nil, errBadRequest("unreadable_body", "could not read the request body")
	}
	return b, nil
}

// bindJSON decodes the body into v, answering 400 for malformed JSON or text the
// database cannot store (checkJSONText), and 413 for size.
func bindJSON(c *gin.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	if err := checkJSONText(b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errBadRequest("malformed_json", "the request body is not valid JSON of the expected shape")
	}
	return nil
}

// recoverJSON turns a panic into a logged 500 with the usual JSON body.
func recoverJSON(logger *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, rec any) {
		logger.ErrorContext(c.Request.Context(), "panic in handler", "panic", rec, "route", c.FullPath())
		renderError(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
	})
}

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
