// The event stream: photos then state, resume with Last-Event-ID without duplicates or
// gaps, the end at a final state, heartbeats, the cap, a bad Last-Event-ID, streams that
// outlive the server's write timeout and end when the hub closes. Changes are made with
// plain UPDATEs: the trigger rings for any writer, and the worker's append has its own tests.

package api_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/api"
	"photogen/generation"
	"photogen/internal/demo"
	"photogen/internal/testdb"
	"photogen/live"
	"photogen/openapi/contract"
	"photogen/store"
)

type eventsEnv struct {
	db   *testdb.DB
	c    *demo.Client
	hub  *live.Hub
	spec *contract.Validator
}

// newEventsEnv serves the api with its event stream, fed by a live.Listener, from an
// httptest server whose http.Server may be configured (timeouts) before it starts.
func newEventsEnv(t *testing.T, cfg func(*api.Config), srvCfg func(*http.Server)) *eventsEnv {
	t.Helper()
	db := testdb.New(t)
	rc, err := generation.NewInserter(db.Pool)
	require.NoError(t, err)
	c := api.Config{WebhookSecret: secret}
	if cfg != nil {
		cfg(&c)
	}
	st := store.New(db.Pool)
	logger := slog.New(slog.DiscardHandler)
	hub := live.NewHub()
	server, err := api.New(api.Options{Config: c, Store: st, Jobs: rc, Logger: logger, Events: hub})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = live.NewListener(st, hub, logger).Run(ctx) }()
	srv := httptest.NewUnstartedServer(server.Handler())
	if srvCfg != nil {
		srvCfg(srv.Config)
	}
	srv.Start()
	t.Cleanup(func() { hub.Close(); srv.Close(); cancel(); <-stopped })
	spec, err := contract.NewValidator()
	require.NoError(t, err)
	return &eventsEnv{db: db, c: &demo.Client{BaseURL: srv.URL}, hub: hub, spec: spec}
}

// subscriber inserts a paid subscriber, generating, with photos of target already made,
// and returns its id and access token.
func (e *eventsEnv) subscriber(t *testing.T, target, photos int) (uuid.UUID, string) {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	id, err := store.New(e.db.Pool).CreateSubscriber(context.Background(), store.NewSubscriber{
		Email: "s" + token[:8] + "@example.com", Strategy: map[string]any{"prompt": "a fox"},
		AccessTokenHash: sum[:], TargetPhotos: target})
	require.NoError(t, err)
	e.exec(t, `UPDATE subscribers SET paid_at = now(), generation_status = 'generating' WHERE id = $1`, id)
	for range photos {
		e.addPhoto(t, id)
	}
	return id, token
}

func (e *eventsEnv) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	_, err := e.db.Pool.Exec(context.Background(), q, args...)
	require.NoError(t, err)
}

// addPhoto appends one photo, completing the subscriber when it reaches its target.
func (e *eventsEnv) addPhoto(t *testing.T, id uuid.UUID) {
	t.Helper()
	e.exec(t, `UPDATE subscribers SET photo_urls = photo_urls || to_jsonb('https://photos.example.com/' || gen_random_uuid() || '.png'),
		generation_status = CASE WHEN jsonb_array_length(photo_urls) + 1 = target_photos THEN 'completed' ELSE generation_status END,
		generated_at = CASE WHEN jsonb_array_length(photo_urls) + 1 = target_photos THEN now() END
		WHERE id = $1`, id)
}

func (e *eventsEnv) open(t *testing.T, token string, lastID int) *demo.EventStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	s, resp, err := e.c.Events(ctx, token, lastID)
	require.NoError(t, err)
	require.NotNil(t, s, "status %d: %s", resp.Status, resp.Body)
	t.Cleanup(func() { _ = s.Close() })
	h := s.Response.Header
	require.Equal(t, "text/event-stream", h.Get("Content-Type"))
	require.Equal(t, "no-cache", h.Get("Cache-Control"))
	require.Equal(t, "no", h.Get("X-Accel-Buffering"))
	return s
}

// next returns the next event (comments skipped), its data checked against the document.
func (e *eventsEnv) next(t *testing.T, s *demo.EventStream) demo.Event {
	t.Helper()
	for {
		ev, err := s.Next()
		require.NoError(t, err)
		if ev.Name == "" {
			continue
		}
		require.NoError(t, e.spec.ValidateEvent(ev.Name, []byte(ev.Data)))
		return ev
	}
}

func (e *eventsEnv) photo(t *testing.T, s *demo.EventStream, index int) {
	t.Helper()
	ev := e.next(t, s)
	require.Equal(t, "photo", ev.Name, "data %s", ev.Data)
	require.Equal(t, strconv.Itoa(index), ev.ID)
	var p struct{ Index int }
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &p))
	require.Equal(t, index, p.Index)
}

func (e *eventsEnv) state(t *testing.T, s *demo.EventStream, state string, total int) {
	t.Helper()
	ev := e.next(t, s)
	require.Equal(t, "state", ev.Name, "data %s", ev.Data)
	require.Equal(t, strconv.Itoa(total), ev.ID)
	var st struct {
		State       string
		TotalPhotos int
	}
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &st))
	require.Equal(t, state, st.State)
	require.Equal(t, total, st.TotalPhotos)
}

func requireEnd(t *testing.T, s *demo.EventStream) {
	t.Helper()
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		require.Empty(t, ev.Name, "no event after the end: %+v", ev)
	}
}

func TestEventsSendPhotosThenStateAndEndAtCompleted(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, nil, nil)
	id, token := e.subscriber(t, 3, 1)
	s := e.open(t, token, 0)
	e.photo(t, s, 1)
	e.state(t, s, "generating", 1)
	e.addPhoto(t, id)
	e.photo(t, s, 2)
	e.state(t, s, "generating", 2)
	e.addPhoto(t, id)
	e.photo(t, s, 3)
	e.state(t, s, "completed", 3)
	requireEnd(t, s)

	// Opened again after completion: everything at once, then the end.
	s = e.open(t, token, 0)
	for i := 1; i <= 3; i++ {
		e.photo(t, s, i)
	}
	e.state(t, s, "completed", 3)
	requireEnd(t, s)
}

func TestEventsResumeAfterLastEventID(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, nil, nil)
	id, token := e.subscriber(t, 5, 3)
	s := e.open(t, token, 2)
	e.photo(t, s, 3) // not 1 or 2 again
	e.state(t, s, "generating", 3)
	require.NoError(t, s.Close())

	e.addPhoto(t, id) // while no stream is open
	s = e.open(t, token, 3)
	e.photo(t, s, 4) // no gap
	e.state(t, s, "generating", 4)
	e.addPhoto(t, id)
	e.photo(t, s, 5)
	e.state(t, s, "completed", 5)
	requireEnd(t, s)

	// Resumed at the end: only the state.
	s = e.open(t, token, 5)
	e.state(t, s, "completed", 5)
	requireEnd(t, s)
}

func TestEventsEndAtFailedAndRefunded(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, nil, nil)
	for _, final := range []string{"failed", "refunded"} {
		id, token := e.subscriber(t, 5, 2)
		s := e.open(t, token, 0)
		e.photo(t, s, 1)
		e.photo(t, s, 2)
		e.state(t, s, "generating", 2)
		e.exec(t, `UPDATE subscribers SET generation_status = $2,
			generation_error = CASE WHEN $2 = 'failed' THEN 'the provider refused' END WHERE id = $1`, id, final)
		ev := e.next(t, s)
		require.Equal(t, "state", ev.Name)
		require.Equal(t, "2", ev.ID)
		var st struct {
			State string
			Error *string
		}
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &st))
		require.Equal(t, final, st.State)
		require.Equal(t, final == "failed", st.Error != nil)
		requireEnd(t, s)
	}
}

func TestEventsRefuseBadRequests(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, nil, nil)
	_, token := e.subscriber(t, 5, 0)
	for _, bad := range []string{"x", "-1", "1.5", "1234567890", "1e3"} {
		resp, err := e.c.Do(context.Background(), http.MethodGet, "/api/blueprint/events", nil,
			http.Header{"Authorization": {"Bearer " + token}, "Last-Event-Id": {bad}})
		require.NoError(t, err)
		requireError(t, resp, http.StatusBadRequest, "bad_last_event_id")
		require.NotContains(t, resp.Header.Get("Content-Type"), "event-stream", "nothing streamed")
	}
	resp, err := e.c.Do(context.Background(), http.MethodGet, "/api/blueprint/events", nil, nil)
	require.NoError(t, err)
	requireError(t, resp, http.StatusUnauthorized, "missing_token")
	other := token[:42] + "A" // a token of no one: the same but its last character
	if token[42] == 'A' {
		other = token[:42] + "B"
	}
	resp, err = e.c.Do(context.Background(), http.MethodGet, "/api/blueprint/events", nil,
		http.Header{"Authorization": {"Bearer " + other}})
	require.NoError(t, err)
	requireError(t, resp, http.StatusNotFound, "not_found")
}

func TestEventsOverTheCapAre503(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, func(c *api.Config) { c.EventsMaxStreams = 2 }, nil)
	_, token := e.subscriber(t, 5, 0)
	e.open(t, token, 0)
	s := e.open(t, token, 0)
	e.state(t, s, "generating", 0) // both are open
	_, resp, err := e.c.Events(context.Background(), token, 0)
	require.NoError(t, err)
	requireError(t, resp, http.StatusServiceUnavailable, "too_many_streams")
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.NoError(t, s.Close())
	require.Eventually(t, func() bool {
		s, _, err := e.c.Events(context.Background(), token, 0)
		if s != nil {
			_ = s.Close()
		}
		return err == nil && s != nil
	}, 5*time.Second, 20*time.Millisecond, "a closed stream frees its place")
}

// TestEventsHeartbeatAndWriteTimeout: a heartbeat of 200 ms (15 s by default) and a server
// whose timeouts are 1 s (30 s in photogen), so that the test sees the stream outlive
// them several times over in seconds: pings keep coming and a photo still arrives.
func TestEventsHeartbeatAndWriteTimeout(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, func(c *api.Config) { c.EventsHeartbeat = 200 * time.Millisecond }, func(s *http.Server) {
		s.WriteTimeout, s.ReadTimeout = time.Second, time.Second
	})
	id, token := e.subscriber(t, 5, 0)
	s := e.open(t, token, 0)
	e.state(t, s, "generating", 0)
	start, pings := time.Now(), 0
	for time.Since(start) < 3*time.Second {
		ev, err := s.Next()
		require.NoError(t, err)
		require.Equal(t, demo.Event{Comment: "ping"}, ev)
		pings++
	}
	require.GreaterOrEqual(t, pings, 10)
	e.addPhoto(t, id)
	e.photo(t, s, 1)
	e.state(t, s, "generating", 1)
}

func TestEventsEndWhenTheHubCloses(t *testing.T) {
	t.Parallel()
	e := newEventsEnv(t, nil, nil)
	_, token := e.subscriber(t, 5, 1)
	s := e.open(t, token, 0)
	e.photo(t, s, 1)
	e.state(t, s, "generating", 1)
	e.hub.Close()
	requireEnd(t, s)
}
