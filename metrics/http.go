// This file instruments the api's gin engine: request count and latency per
// route template, never per raw URL.

package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute is the route label of a request that matched no route.
const unmatchedRoute = "unmatched"

// otherMethod is the method label of a request whose method is not a
// standard HTTP method, so clients cannot create series at will.
const otherMethod = "OTHER"

func (m *Metrics) initHTTP() {
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "photogen_http_requests_total",
		Help: "HTTP requests served by the api, by route template, method and status code.",
	}, []string{"route", "method", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "photogen_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route template and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	m.registry.MustRegister(m.httpRequests, m.httpDuration)
	m.http.byKey = make(map[httpKey]httpSeries)
}

// GinMiddleware returns a gin middleware that counts every request in
// photogen_http_requests_total{route,method,code} and observes its latency in
// photogen_http_request_duration_seconds{route,method}. The route label is the
// route template from c.FullPath() ("/photos/:id"), or "unmatched" when no
// route matched (404, 405), so a raw URL never becomes a label; a non-standard
// method is labelled "OTHER". Install it with engine.Use before registering
// routes (gin copies the middleware chain into each route when it is added)
// and before gin.Recovery, so a handler's panic is recorded as the 500 that
// Recovery writes rather than skipping this middleware.
func (m *Metrics) GinMiddleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()

		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		s := m.http.series(m, httpKey{route: route, method: methodLabel(c.Request.Method), code: c.Writer.Status()})
		s.requests.Inc()
		s.duration.Observe(time.Since(start).Seconds())
	}
}

// httpKey is one request's labels: route template, method label and status code.
type httpKey struct {
	route, method string
	code          int
}

// httpSeries is the request counter and the latency histogram of one httpKey.
type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// httpSeriesCache keeps each httpKey's series once looked up, so that a request costs
// one map lookup instead of two label hashes and lookups in the vectors (and the code's
// formatting). Its keys are as bounded as the labels: route templates, method labels,
// status codes. No series of the vectors is ever deleted, so a kept one stays theirs.
type httpSeriesCache struct {
	mu    sync.RWMutex
	byKey map[httpKey]httpSeries
}

// series returns k's series in m's vectors, created at their first request.
func (h *httpSeriesCache) series(m *Metrics, k httpKey) httpSeries {
	h.mu.RLock()
	s, ok := h.byKey[k]
	h.mu.RUnlock()
	if ok {
		return s
	}
	s = httpSeries{
		requests: m.httpRequests.WithLabelValues(k.route, k.method, strconv.Itoa(k.code)),
		duration: m.httpDuration.WithLabelValues(k.route, k.method),
	}
	h.mu.Lock()
	h.byKey[k] = s
	h.mu.Unlock()
	return s
}

// methodLabel returns method if it is a standard HTTP method and otherMethod
// otherwise.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	default:
		return otherMethod
	}
}
