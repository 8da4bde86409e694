package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"photogen/generation"
	"photogen/internal/fakereplicate"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
	"photogen/worker"
)

// outage puts a switch in front of the fake provider (its API and its outputs): while
// down, every request gets a 503, as a provider in an outage answers.
type outage struct {
	next http.Handler
	down atomic.Bool
}

func (o *outage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o.down.Load() {
		http.Error(w, `{"detail":"upstream unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	o.next.ServeHTTP(w, r)
}

// withOutage points f's provider at a switch in front of its fake and returns the switch.
func (f *fixture) withOutage(t *testing.T) *outage {
	t.Helper()
	o := &outage{next: f.fake}
	ts := httptest.NewServer(o)
	t.Cleanup(ts.Close)
	p, err := provider.NewReplicate(provider.ReplicateConfig{Token: "t", BaseURL: ts.URL + "/v1", Model: "black-forest-labs/flux-schnell"})
	require.NoError(t, err)
	f.provider = p
	return o
}

// failingBucket refuses every photo while full, as a full disk does.
type failingBucket struct {
	photos.Bucket
	full atomic.Bool
}

func (b *failingBucket) Put(ctx context.Context, key, contentType string, data []byte) (string, error) {
	if b.full.Load() {
		return "", errors.New("write photo: no space left on device")
	}
	return b.Bucket.Put(ctx, key, contentType, data)
}

// attemptOnce runs one attempt of id's job, as River would, and returns its result.
func (f *fixture) attemptOnce(t *testing.T, cfg worker.Config, id uuid.UUID) error {
	t.Helper()
	w, err := worker.NewGenerateWorker(f.store, f.provider, f.keeper, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return w.Work(ctx, &river.Job[generation.GenerateArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: generation.MaxAttempts},
		Args:   generation.GenerateArgs{SubscriberID: id},
	})
}

// requireShortSnooze asserts err is the short snooze of a delayed generation: no error
// River would count as a failed attempt, no retry backoff.
func requireShortSnooze(t *testing.T, err error) {
	t.Helper()
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze, "a delayed generation snoozes: %v", err)
	require.NotErrorIs(t, err, worker.ErrAsleep)
	require.Positive(t, snooze.Duration)
	require.LessOrEqual(t, snooze.Duration, 3*time.Second, "it tries again within seconds")
}

func TestProviderOutageDelaysTheGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond}, "black-forest-labs/flux-schnell")
	o := f.withOutage(t)
	id := f.paidSubscriber(t, 10)

	o.down.Store(true)
	requireShortSnooze(t, f.attemptOnce(t, fast, id))
	sub, err := f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusGenerating, sub.Status)
	require.NotNil(t, sub.Delay, "the status says the generation is delayed")
	require.Equal(t, generation.DelayProvider, sub.Delay.Reason)
	first := sub.Delay.Since

	requireShortSnooze(t, f.attemptOnce(t, fast, id))
	sub, err = f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, first, sub.Delay.Since, "the delay keeps the time it began")

	o.down.Store(false)
	require.NoError(t, f.work(t, fast, id, 1))
	sub, err = f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusCompleted, sub.Status)
	require.Len(t, sub.PhotoURLs, 10)
	require.Nil(t, sub.Delay, "the first call that works ends the delay")
	ledger, err := f.store.LedgerFor(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 10, f.fake.Stats().Created, "nothing paid twice, nothing wasted")
	require.Equal(t, 10, ledger.Created)
}

func TestOutageLongerThanTheLimitFailsTheGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond}, "black-forest-labs/flux-schnell")
	o := f.withOutage(t)
	id := f.paidSubscriber(t, 10)
	// The bound itself is under test: a second, not the hour operators get.
	cfg := fast
	cfg.OutageLimit = time.Second

	o.down.Store(true)
	requireShortSnooze(t, f.attemptOnce(t, cfg, id))
	time.Sleep(1100 * time.Millisecond)
	err := f.attemptOnce(t, cfg, id)
	var cancel *river.JobCancelError
	require.ErrorAs(t, err, &cancel, "past the limit the job ends: %v", err)
	sub, err := f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusFailed, sub.Status)
	require.NotNil(t, sub.Error)
	require.Regexp(t, `^the image provider was unavailable for \d+s \(OUTAGE_LIMIT\): .*503`, *sub.Error)
	require.Nil(t, sub.Delay, "a failed generation is no longer delayed")
}

func TestPhotoStoreOutageDelaysTheGeneration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond}, "black-forest-labs/flux-schnell")
	bucket := &failingBucket{Bucket: f.keeper.Bucket}
	f.keeper = &photos.Keeper{Bucket: bucket}
	id := f.paidSubscriber(t, 10)

	bucket.full.Store(true)
	var err error
	for range 20 { // the first attempts create; one that keeps meets the full store
		if err = f.attemptOnce(t, fast, id); !errors.Is(err, worker.ErrAsleep) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	requireShortSnooze(t, err)
	sub, err := f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, sub.Delay)
	require.Equal(t, generation.DelayPhotoStore, sub.Delay.Reason)
	require.Empty(t, sub.PhotoURLs)

	bucket.full.Store(false)
	require.NoError(t, f.work(t, fast, id, 1))
	sub, err = f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusCompleted, sub.Status)
	require.Len(t, sub.PhotoURLs, 10)
	require.Nil(t, sub.Delay)
	require.Equal(t, 10, f.fake.Stats().Created, "no photo lost, none paid twice")
}

func TestDatabaseBlinkSnoozesWithoutSpendingAnAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 3)
	// A pool whose server refuses every connection, as during a restart: nothing listens
	// on the port of a listener closed at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@"+addr+"/x?connect_timeout=2")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	f.store = store.New(pool)

	err = f.attemptOnce(t, fast, id)
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze, "a refused connection is no failed attempt: %v", err)
	require.Equal(t, time.Second, snooze.Duration)
}

func TestARescuedJobRunsAtOnce(t *testing.T) {
	t.Parallel()
	w, err := worker.NewGenerateWorker(nil, nil, nil, worker.Config{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	job := func(ago time.Duration) *river.Job[generation.GenerateArgs] {
		at := time.Now().Add(-ago)
		return &river.Job[generation.GenerateArgs]{JobRow: &rivertype.JobRow{Attempt: 3, AttemptedAt: &at}}
	}
	require.WithinDuration(t, time.Now(), w.NextRetry(job(2*time.Minute)), time.Second,
		"rescued (its attempt began 2 min ago, beyond the 45 s timeout): at once")
	require.True(t, w.NextRetry(job(time.Second)).IsZero(), "a failed attempt waits River's backoff")
}
