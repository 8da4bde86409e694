// Live updates end to end: a stream on one api sees what another served, a stream
// survives a PostgreSQL restart, and streams end promptly when the api stops. Every
// event's data is checked against the OpenAPI document.

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"photogen/internal/demo"
	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
	"photogen/openapi/contract"
)

// followed is what a client following a stream (reconnecting with Last-Event-ID, as the
// page does) received.
type followed struct {
	photos     []int       // the photo events' ids, in order of arrival
	at         []time.Time // when each arrived
	state      string      // the last state event's
	reconnects int
}

// follow reads the subscriber's stream on c until it ends after a final state,
// reconnecting with Last-Event-ID when it drops. Every event's data is validated.
func follow(ctx context.Context, c *demo.Client, spec *contract.Validator, token string, lastID int) (followed, error) {
	var f followed
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			f.reconnects++
			select {
			case <-ctx.Done():
				return f, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		s, resp, err := c.Events(ctx, token, lastID)
		if err != nil {
			if ctx.Err() != nil {
				return f, err
			}
			continue // the api is away: retry
		}
		if s == nil {
			return f, fmt.Errorf("events: status %d: %s", resp.Status, resp.Body)
		}
		final, err := readStream(s, spec, &f, &lastID)
		_ = s.Close()
		if err != nil {
			return f, err
		}
		if final {
			return f, nil
		}
	}
}

// readStream reads s to its end; it reports whether the stream ended after a final state.
// A dropped connection is not an error (the caller reconnects); an event out of order is.
func readStream(s *demo.EventStream, spec *contract.Validator, f *followed, lastID *int) (bool, error) {
	final := false
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return final, nil
		}
		if err != nil {
			return false, nil // dropped: reconnect
		}
		if ev.Name == "" {
			continue
		}
		if err := spec.ValidateEvent(ev.Name, []byte(ev.Data)); err != nil {
			return false, err
		}
		id, err := strconv.Atoi(ev.ID)
		if err != nil {
			return false, fmt.Errorf("event id %q: %w", ev.ID, err)
		}
		switch ev.Name {
		case "photo":
			if id != *lastID+1 {
				return false, fmt.Errorf("photo %d after %d: out of order, missed or repeated", id, *lastID)
			}
			*lastID = id
			f.photos = append(f.photos, id)
			f.at = append(f.at, time.Now())
		case "state":
			var st struct{ State string }
			if err := json.Unmarshal([]byte(ev.Data), &st); err != nil {
				return false, err
			}
			if final {
				return false, errors.New("an event after the final state")
			}
			f.state = st.State
			final = st.State == "completed" || st.State == "failed" || st.State == "refunded"
		}
	}
}

func requireAllPhotos(t *testing.T, f followed, n int) {
	t.Helper()
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, f.photos)
}

func newSpec(t testing.TB) *contract.Validator {
	t.Helper()
	spec, err := contract.NewValidator()
	require.NoError(t, err)
	return spec
}

// signUp signs a subscriber up from an address of its own; pay delivers its paid checkout.
func signUp(t testing.TB, c *demo.Client, i int) demo.Subscriber {
	t.Helper()
	own := fromOwnAddress(t, c)
	sub, err := own.CreateSubscriber(context.Background(), fmt.Sprintf("e%d-%d@example.com", i, time.Now().UnixNano()), "a portrait")
	own.HTTP.CloseIdleConnections()
	require.NoError(t, err)
	return sub
}

func pay(t testing.TB, c *demo.Client, sub demo.Subscriber) {
	t.Helper()
	email := "paid-" + sub.SubscriberID + "@example.com"
	resp, err := c.SendWebhook(context.Background(), webhookSecret, demo.CheckoutCompleted("evt_"+sub.SubscriberID, sub.SubscriberID, email), time.Now())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status, "body: %s", resp.Body)
}

// secondAPI starts another api process on the stack's database, on addresses of its own.
func (s *stack) secondAPI(t *testing.T) (*proc, *demo.Client) {
	t.Helper()
	other := &stack{db: s.db, fake: s.fake, env: map[string]string{}}
	for k, v := range s.env {
		other.env[k] = v
	}
	other.env["HTTP_ADDR"], other.env["METRICS_ADDR"] = freeAddr(t), freeAddr(t)
	return other.startAPI(t)
}

func TestAStreamOnOneAPISeesWhatAnotherServed(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{Latency: 50 * time.Millisecond, Seed: 11}, nil)
	_, a := s.startAPI(t) // the fake's webhooks and Stripe's go to a
	_, b := s.secondAPI(t)
	s.startWorker(t)
	sub := signUp(t, a, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	got := make(chan followed, 1)
	errc := make(chan error, 1)
	go func() {
		f, err := follow(ctx, fromOwnAddress(t, b), newSpec(t), sub.AccessToken, 0)
		got <- f
		errc <- err
	}()
	pay(t, a, sub)
	f := <-got
	require.NoError(t, <-errc)
	requireAllPhotos(t, f, 30)
	require.Equal(t, "completed", f.state)
	require.Zero(t, f.reconnects, "one stream from start to end")
}

// TestAStreamSurvivesAPostgreSQLRestart restarts the server (a cluster of the test's own)
// while photos arrive: the listener reconnects and the same stream gets every photo.
func TestAStreamSurvivesAPostgreSQLRestart(t *testing.T) {
	t.Parallel()
	cl := newCluster(t)
	url := cl.createDatabase(t, "photogen")
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	defer pool.Close()
	// Latency 300 ms: the generation lasts long enough to restart in its middle.
	s := newStack(t, fakereplicate.Config{Latency: 300 * time.Millisecond, Seed: 12}, nil)
	s.env["DATABASE_URL"] = url
	s.db = &testdb.DB{URL: url, Pool: pool}
	start(t, "migrate", s.env).Wait(t, time.Minute)
	_, c := s.startAPI(t)
	s.startWorker(t)
	sub := signUp(t, c, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stream, resp, err := fromOwnAddress(t, c).Events(ctx, sub.AccessToken, 0)
	require.NoError(t, err)
	require.NotNil(t, stream, "status %d: %s", resp.Status, resp.Body)
	defer stream.Close()
	pay(t, c, sub)
	spec := newSpec(t)
	var f followed
	last := 0
	done := make(chan error, 1)
	go func() {
		final, err := readStream(stream, spec, &f, &last)
		if err == nil && !final {
			err = errors.New("the stream ended before a final state")
		}
		done <- err
	}()
	require.Eventually(t, func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT coalesce(max(jsonb_array_length(photo_urls)), 0) FROM subscribers`).Scan(&n)
		return n >= 3
	}, time.Minute, 50*time.Millisecond)
	cl.ctl(t, "restart")
	require.NoError(t, <-done)
	requireAllPhotos(t, f, 30)
	require.Equal(t, "completed", f.state)
}

// TestStreamsEndWhenTheAPIStops: SIGTERM ends every open stream at once, cleanly, and
// the api exits well before its shutdown timeout (River's soft stop plus 20 s).
func TestStreamsEndWhenTheAPIStops(t *testing.T) {
	t.Parallel()
	s := newStack(t, fakereplicate.Config{}, nil)
	p, c := s.startAPI(t) // no worker: the subscribers stay queued, their streams open
	var streams []*demo.EventStream
	for i := range 3 {
		sub := signUp(t, c, i)
		pay(t, c, sub)
		st, resp, err := fromOwnAddress(t, c).Events(context.Background(), sub.AccessToken, 0)
		require.NoError(t, err)
		require.NotNil(t, st, "status %d: %s", resp.Status, resp.Body)
		defer st.Close()
		ev, err := st.Next()
		require.NoError(t, err)
		require.Equal(t, "state", ev.Name)
		streams = append(streams, st)
	}
	stopped := time.Now()
	p.Signal(syscall.SIGTERM)
	for _, st := range streams {
		for {
			ev, err := st.Next()
			if err != nil {
				require.ErrorIs(t, err, io.EOF, "a clean end, not a cut connection")
				break
			}
			require.Empty(t, ev.Name, "no event at shutdown")
		}
	}
	p.Wait(t, 10*time.Second)
	require.Less(t, time.Since(stopped), 5*time.Second, "streams end at once, not at the shutdown timeout")
}
