// This file makes the handlers the api mounts but does not own (the page's files, the
// local photo store's) answer their errors with the api's JSON error body, as every
// route of the api does.

package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// wrapJSONErrors returns h as a gin handler whose answers of 400 and above, when h
// writes them in anything but JSON (http.Error's and http.NotFound's plain text), carry
// the JSON error body instead: the status and the headers h set stay, the body and its
// type are replaced. Other answers pass through unchanged.
func wrapJSONErrors(h http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		h.ServeHTTP(&jsonErrorWriter{ResponseWriter: c.Writer, head: c.Request.Method == http.MethodHead}, c.Request)
	}
}

// jsonErrorWriter is wrapJSONErrors' writer: once it has replaced an error's body it
// drops what h writes after.
type jsonErrorWriter struct {
	http.ResponseWriter
	head     bool // a HEAD request: the headers only
	replaced bool
}

func (w *jsonErrorWriter) WriteHeader(status int) {
	h := w.Header()
	if status < http.StatusBadRequest || strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	body, _ := json.Marshal(newErrorBody(statusCode(status), http.StatusText(status)))
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.ResponseWriter.WriteHeader(status)
	if !w.head {
		_, _ = w.ResponseWriter.Write(body)
	}
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// statusCode is the error code of an HTTP status: its text in snake case ("not_found").
func statusCode(status int) string {
	return strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
}
