// This file is the live updates endpoint: a subscriber's photos and state as server-sent
// events, woken by the live.Hub and read from the database, so that every api replica
// delivers every event, in order, once per connection.

package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"photogen/generation"
	"photogen/live"
	"photogen/store"
)

// writeSlack is how long one write of events may take before the connection is given up.
const writeSlack = 10 * time.Second

// EventStreams returns how many event streams are open (the photogen_event_streams gauge).
func (s *Server) EventStreams() int { return int(s.streams.Load()) }

// handleEvents streams the subscriber's photos after Last-Event-ID, then its state, then
// each change as it commits, until a final state or the server's shutdown.
func (s *Server) handleEvents(c *gin.Context) {
	ctx := c.Request.Context()
	after, ok := lastEventID(c.GetHeader("Last-Event-ID"))
	if !ok {
		renderError(c, errBadRequest("bad_last_event_id", "Last-Event-ID must be a number of photos (0 to 999999999)"))
		return
	}
	sub, err := s.subscriberByToken(ctx, accessToken(c))
	if err != nil {
		renderError(c, err)
		return
	}
	if s.streams.Add(1) > int64(s.cfg.EventsMaxStreams) {
		s.streams.Add(-1)
		c.Header("Retry-After", "5")
		renderError(c, &Error{Status: http.StatusServiceUnavailable, Code: "too_many_streams",
			Message: "this server has as many event streams open as it may; retry, or poll the status"})
		return
	}
	defer s.streams.Add(-1)
	bell := s.events.Subscribe(sub.ID) // before the first read: no change after it goes unheard
	defer bell.Cancel()

	st := &eventStream{w: c.Writer, rc: http.NewResponseController(c.Writer), sent: after}
	// The server's ReadTimeout would end the request's context while the stream is open;
	// its WriteTimeout is pushed back before each write instead (eventStream.flush).
	_ = st.rc.SetReadDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx and others: do not buffer the stream
	c.Status(http.StatusOK)
	if err := st.flush(); err != nil {
		return
	}
	heartbeat := time.NewTicker(s.cfg.EventsHeartbeat)
	defer heartbeat.Stop()
	var retry <-chan time.Time
	since := bell.RungAt() // the time of Subscribe, then of each ring
	for {
		done, err := s.sendNews(ctx, st, sub.ID, since)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errWrite):
			return // the client is gone
		case err != nil:
			// The database is away (a restart, a failover): keep the stream, read again
			// at the next wake (the listener wakes every stream when it reconnects) or
			// in a second.
			loggerFrom(c).WarnContext(ctx, "event stream: read the subscriber", "err", err)
			retry = time.After(time.Second)
		case done:
			return
		default:
			retry = nil
		}
		if !s.waitForNews(ctx, st, bell, heartbeat.C, retry, &since) {
			return
		}
	}
}

// waitForNews sends a heartbeat every tick until the subscriber may have changed (a wake,
// or the retry after a failed read), and sets *since to when a read must begin to see
// that change. It reports false when the stream must end: the server shuts down, the
// client left, or a write failed.
func (s *Server) waitForNews(ctx context.Context, st *eventStream, bell *live.Subscription, tick, retry <-chan time.Time, since *time.Time) bool {
	for {
		select {
		case <-retry:
			*since = time.Now()
			return true
		case <-bell.Wake():
			*since = bell.RungAt()
			return true
		case <-tick:
			st.comment("ping")
			if err := st.flush(); err != nil {
				return false
			}
		case <-bell.Done(): // shutting down: the page reconnects to another replica
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// sendNews reads the subscriber and sends what the stream has not sent: the photos after
// the last one sent, then the state when it changed. It reports whether the state sent is
// final.
func (s *Server) sendNews(ctx context.Context, st *eventStream, id uuid.UUID, after time.Time) (bool, error) {
	sub, err := s.reads.read(ctx, id, after)
	if err != nil {
		return false, err
	}
	if err := st.news(sub); err != nil {
		return false, err
	}
	if err := st.flush(); err != nil {
		return false, fmt.Errorf("%w: %w", errWrite, err)
	}
	return final(sub.Status), nil
}

// errWrite wraps a failed write to the client: the stream is over.
var errWrite = errors.New("write the event stream")

// final reports whether a stream ends after sending state st.
func final(st generation.Status) bool {
	switch st {
	case generation.StatusCompleted, generation.StatusFailed, generation.StatusRefunded:
		return true
	}
	return false
}

// lastEventID parses the Last-Event-ID header: absent is 0; otherwise 1 to 9 digits, as the
// OpenAPI document says.
func lastEventID(h string) (int, bool) {
	if h == "" {
		return 0, true
	}
	if len(h) > 9 {
		return 0, false
	}
	for _, r := range h {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(h)
	return n, err == nil
}

// subscriberByToken authenticates an access token: 401 without one, 404 for one no
// subscriber has.
func (s *Server) subscriberByToken(ctx context.Context, token string) (*generation.Subscriber, error) {
	if token == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Code: "missing_token",
			Message: "send the access token as Authorization: Bearer <token>"}
	}
	if !validTokenShape(token) {
		return nil, errNotFound("no subscriber has this access token")
	}
	sub, err := s.store.SubscriberByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound("no subscriber has this access token")
	}
	return sub, err
}
