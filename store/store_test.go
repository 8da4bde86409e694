package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/store"

	"photogen/generation"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// newSubscriber creates a paid subscriber with the given target, queued for generation.
func newSubscriber(t *testing.T, s *store.Store, target int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	hash := sha256.Sum256([]byte(uuid.NewString()))
	id, err := s.CreateSubscriber(ctx, store.NewSubscriber{
		Email: uuid.NewString() + "@example.com", Strategy: map[string]any{"prompt": "a cat"},
		AccessTokenHash: hash[:], TargetPhotos: target,
	})
	require.NoError(t, err)
	_, err = s.MarkPaid(ctx, id, "")
	require.NoError(t, err)
	return id
}

func succeed(t *testing.T, s *store.Store, sub uuid.UUID, n int) []string {
	t.Helper()
	ctx := context.Background()
	var urls []string
	for range n {
		pid := uuid.NewString()
		url := "https://files.example/" + pid + ".png"
		intent := testdb.AddIntent(t, s.Pool(), sub, 1)
		require.NoError(t, s.ResolveIntent(ctx, intent, pid, generation.PredictionStarting))
		_, res, err := s.RecordOutcome(ctx, generation.Prediction{ID: pid, Status: generation.PredictionSucceeded, OutputURLs: []string{url}})
		require.NoError(t, err)
		require.Equal(t, generation.Recorded, res)
		require.NoError(t, s.KeepPrediction(ctx, pid, url))
		urls = append(urls, url)
	}
	return urls
}

func TestCheckRefusesMorePhotosThanTarget(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	s := store.New(db.Pool)
	id := newSubscriber(t, s, 30)

	urls := make([]string, 31)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://files.example/%d.png", i)
	}
	raw, err := json.Marshal(urls)
	require.NoError(t, err)
	_, err = db.Pool.Exec(context.Background(), `UPDATE subscribers SET photo_urls = $2 WHERE id = $1`, id, raw)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23514", pgErr.Code, "check_violation")
	require.Equal(t, "subscribers_photo_urls_capped", pgErr.ConstraintName)

	// Thirty is allowed, and completed without generated_at is not.
	raw, err = json.Marshal(urls[:30])
	require.NoError(t, err)
	_, err = db.Pool.Exec(context.Background(), `UPDATE subscribers SET photo_urls = $2 WHERE id = $1`, id, raw)
	require.NoError(t, err)
	_, err = db.Pool.Exec(context.Background(), `UPDATE subscribers SET generation_status = 'completed' WHERE id = $1`, id)
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "subscribers_generated_complete", pgErr.ConstraintName)
}

func TestAppendSucceededIsCappedAndIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	id := newSubscriber(t, s, 7)

	first := succeed(t, s, id, 5)
	r, err := s.AppendSucceeded(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.AppendResult{Appended: 5, Photos: 5, TargetPhotos: 7, Status: generation.StatusQueued}, r)

	r, err = s.AppendSucceeded(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 0, r.Appended, "a second append adds nothing")
	require.Equal(t, 5, r.Photos)

	// Five more succeeded predictions: only two fit.
	second := succeed(t, s, id, 5)
	r, err = s.AppendSucceeded(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.AppendResult{Appended: 2, Photos: 7, TargetPhotos: 7, Status: generation.StatusCompleted}, r)

	sub, err := s.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Equal(t, append(first, second[:2]...), sub.PhotoURLs, "oldest first, trimmed in SQL")
	require.NotNil(t, sub.GeneratedAt)

	l, err := s.LedgerFor(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.Ledger{Photos: 7, Target: 7, Unappended: 3, Created: 10, Failed: 0}, l,
		"the three beyond the target stay kept and unappended")
}

func TestAppendSucceededConcurrentCallsNeverDuplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	id := newSubscriber(t, s, 30)
	succeed(t, s, id, 40)

	var wg sync.WaitGroup
	total := make(chan int, 20)
	for range 20 {
		wg.Go(func() {
			r, err := s.AppendSucceeded(ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			total <- r.Appended
		})
	}
	wg.Wait()
	close(total)
	sum := 0
	for n := range total {
		sum += n
	}
	require.Equal(t, 30, sum, "exactly the target was appended across all callers")
	sub, err := s.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Len(t, sub.PhotoURLs, 30)
	seen := map[string]bool{}
	for _, u := range sub.PhotoURLs {
		require.False(t, seen[u], "duplicate %s", u)
		seen[u] = true
	}
}

func TestStripeEventInboxAcceptsAnIDOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)

	var wg sync.WaitGroup
	won := make(chan bool, 10)
	for range 10 {
		wg.Go(func() {
			ok, err := s.RecordStripeEvent(ctx, store.StripeEvent{ID: "evt_1", Type: "x", Outcome: store.OutcomeIgnored, Payload: []byte(`{}`)})
			if err != nil {
				t.Error(err)
			}
			won <- ok
		})
	}
	wg.Wait()
	close(won)
	n := 0
	for ok := range won {
		if ok {
			n++
		}
	}
	require.Equal(t, 1, n)
}

func TestCreateSubscriberEmailUniqueWithoutCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	h1, h2 := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	_, err := s.CreateSubscriber(ctx, store.NewSubscriber{Email: "Ann@Example.com", Strategy: map[string]any{"prompt": "p"}, AccessTokenHash: h1[:], TargetPhotos: 30})
	require.NoError(t, err)
	_, err = s.CreateSubscriber(ctx, store.NewSubscriber{Email: "ann@example.COM", Strategy: map[string]any{"prompt": "p"}, AccessTokenHash: h2[:], TargetPhotos: 30})
	require.ErrorIs(t, err, store.ErrConflict)
}

// TestReserveCreationsNeverOvershootsTheWindow: while one transaction holds the
// subscriber's row and reserves the whole window of 5, 20 reservations in parallel wait
// for it; none of them may add an intent once it commits, whatever the snapshot each
// statement started with.
func TestReserveCreationsNeverOvershootsTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	id := newSubscriber(t, s, 30)
	_, err := s.StartGeneration(ctx, id)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var got atomic.Int32
	err = s.WithTx(ctx, func(tx *store.Store) error {
		if _, err := tx.LockSubscriber(ctx, id); err != nil {
			return err
		}
		for i := range 20 {
			wg.Go(func() {
				intents, _, err := s.ReserveCreations(ctx, id, []int64{int64(100 + i)}, store.Window{Batch: 5, Budget: 40}, perMinute600)
				require.NoError(t, err)
				got.Add(int32(len(intents)))
			})
		}
		time.Sleep(300 * time.Millisecond) // let them start and wait for the row
		intents, _, err := tx.ReserveCreations(ctx, id, []int64{1, 2, 3, 4, 5, 6}, store.Window{Batch: 5, Budget: 40}, perMinute600)
		require.Len(t, intents, 5)
		return err
	})
	require.NoError(t, err)
	wg.Wait()
	require.Zero(t, got.Load(), "the window was full when each got the row")
	l, err := s.LedgerFor(ctx, id)
	require.NoError(t, err)
	require.Len(t, l.Intents, 5)
	require.Equal(t, 5, createSlotsTaken(t, db), "a slot of the fleet's limit for each intent, none for the reservations refused")
}

// perMinute600 is the fleet's default limit on creations.
var perMinute600 = store.CreationLimit{PerWindow: 600, Window: time.Minute}

// createSlotsTaken counts the slots of the fleet's creation limit in the window.
func createSlotsTaken(t *testing.T, db *testdb.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM provider_slots WHERE bucket = 'create'`).Scan(&n))
	return n
}

// TestReserveCreationsTakesTheFleetsSlotsOnlyForWhatItWrites: the fleet's limit (6 a
// minute here) is taken in the reserving transaction, one slot per intent written. A
// reservation the window refuses takes none, so a subscriber whose window is full never
// makes another wait for a slot nobody uses; one the limit cuts short says how long
// until the next slot.
func TestReserveCreationsTakesTheFleetsSlotsOnlyForWhatItWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	limit := store.CreationLimit{PerWindow: 6, Window: time.Minute}
	a, b := newSubscriber(t, s, 30), newSubscriber(t, s, 30)
	for _, id := range []uuid.UUID{a, b} {
		_, err := s.StartGeneration(ctx, id)
		require.NoError(t, err)
	}

	intents, wait, err := s.ReserveCreations(ctx, a, []int64{1, 2, 3, 4, 5, 6, 7, 8}, store.Window{Batch: 5, Budget: 40}, limit)
	require.NoError(t, err)
	require.Len(t, intents, 5, "the window of 5")
	require.Zero(t, wait)
	intents, wait, err = s.ReserveCreations(ctx, a, []int64{9}, store.Window{Batch: 5, Budget: 40}, limit)
	require.NoError(t, err)
	require.Empty(t, intents, "a's window is full")
	require.Zero(t, wait, "the window refused, not the fleet's limit")
	require.Equal(t, 5, createSlotsTaken(t, db))

	intents, wait, err = s.ReserveCreations(ctx, b, []int64{11, 12, 13}, store.Window{Batch: 5, Budget: 40}, limit)
	require.NoError(t, err)
	require.Len(t, intents, 1, "the one slot a's refused reservation did not take")
	require.Greater(t, wait, 59*time.Second, "the next slot frees up a minute after the first")
	require.Equal(t, 6, createSlotsTaken(t, db))

	intents, _, err = s.ReserveCreations(ctx, b, []int64{14}, store.Window{Batch: 5, Budget: 40}, store.NoCreationLimit)
	require.NoError(t, err)
	require.Len(t, intents, 1, "a refused create's retry takes no new slot")
	require.Equal(t, 6, createSlotsTaken(t, db))
}

// TestModelPaceIsTheRecentP95: the pace is the 95th percentile of the last predictions
// that ended at the provider, from their reservation to their end; intents, predictions
// in flight and older ones do not count.
func TestModelPaceIsTheRecentP95(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	s := store.New(db.Pool)
	ctx := context.Background()
	p95, seen, err := s.ModelPace(ctx, 20)
	require.NoError(t, err)
	require.Zero(t, seen, "a new deployment knows no pace")
	require.Zero(t, p95)

	id := newSubscriber(t, s, 30)
	add := func(status string, took time.Duration, endedAgo time.Duration) {
		_, err := db.Pool.Exec(ctx, `INSERT INTO predictions (subscriber_id, status, seed, provider_id, provider_output_url, output_url,
			created_at, completed_at) VALUES ($1, $2, 1, $3, 'https://x.example/o.png', 'https://ours.example/o.png', now() - $4::interval - $5::interval,
			CASE WHEN $2 IN ('starting', 'processing') THEN NULL ELSE now() - $4::interval END)`,
			id, status, uuid.NewString(), endedAgo, took)
		require.NoError(t, err)
	}
	add("succeeded", time.Hour, time.Hour) // old: beyond the last 20
	for i := range 19 {
		add("succeeded", time.Second, time.Duration(i)*time.Second)
	}
	add("failed", 3*time.Second, 0)
	add("processing", time.Hour, 0) // in flight: not ended
	p95, seen, err = s.ModelPace(ctx, 20)
	require.NoError(t, err)
	require.Equal(t, 20, seen)
	// 19 of 1 s and one of 3 s: the 95th percentile interpolates between them.
	require.InDelta(t, 1.1, p95.Seconds(), 0.05)
}

// TestHandBackJobsRelyOnRiversColumns lets a River client work a generation job and,
// while it runs, hands it back: the row is found by state, kind, the attempted_at its
// worker was given and the client's ID as the last of attempted_by, as HandBackJobs
// expects. The completer's write of the
// attempt's outcome then finds no row: nothing resurrects the job. Another client's ID,
// or another attempt's time, hands back nothing.
func TestHandBackJobsRelyOnRiversColumns(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	s := store.New(db.Pool)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	running, release := make(chan *river.Job[generation.GenerateArgs], 1), make(chan struct{})
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[generation.GenerateArgs]) error {
		running <- job
		<-release
		return nil
	}))
	client, err := river.NewClient(riverpgxv5.New(db.Pool), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers: workers,
		Logger:  slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(ctx))
	defer func() { _ = client.Stop(context.WithoutCancel(ctx)) }()

	sub := uuid.New()
	res, err := client.Insert(ctx, generation.GenerateArgs{SubscriberID: sub}, nil)
	require.NoError(t, err)
	job := <-running
	id := job.ID
	require.Equal(t, res.Job.ID, id)
	require.NotNil(t, job.AttemptedAt)

	kind := (generation.GenerateArgs{}).Kind()
	handBack := func(clientID string, attemptedAt time.Time) []uuid.UUID {
		var subs []uuid.UUID
		require.NoError(t, s.WithTx(ctx, func(tx *store.Store) error {
			subs, err = tx.HandBackJobs(ctx, clientID, kind, map[int64]time.Time{id: attemptedAt})
			return err
		}))
		return subs
	}
	lost := func(clientID string, running []int64, settle time.Duration) []uuid.UUID {
		var subs []uuid.UUID
		rollback := errors.New("look only")
		require.ErrorIs(t, s.WithTx(ctx, func(tx *store.Store) error {
			if subs, err = tx.HandBackLostJobs(ctx, clientID, kind, running, settle); err != nil {
				return err
			}
			return rollback
		}), rollback)
		return subs
	}
	require.Empty(t, lost(client.ID(), []int64{id}, 0), "it runs here")
	require.Empty(t, lost("another client", nil, 0))
	require.Empty(t, lost(client.ID(), nil, time.Hour), "fetched too recently to be lost")
	require.Equal(t, []uuid.UUID{sub}, lost(client.ID(), []int64{id + 1}, 0), "running under this client, not here: lost")

	require.Empty(t, handBack("another client", *job.AttemptedAt))
	require.Empty(t, handBack(client.ID(), job.AttemptedAt.Add(time.Microsecond)), "another attempt")
	require.Equal(t, []uuid.UUID{sub}, handBack(client.ID(), *job.AttemptedAt))

	close(release)
	require.NoError(t, client.Stop(ctx)) // the attempt ends, and the completer writes it, to no row
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE id = $1`, id).Scan(&n))
	require.Zero(t, n, "the late write resurrected nothing")
}

// finished records a prediction of sub that succeeded at the provider, its photo not
// yet kept, and returns its id.
func finished(t *testing.T, s *store.Store, sub uuid.UUID) string {
	t.Helper()
	ctx := context.Background()
	pid := uuid.NewString()
	intent := testdb.AddIntent(t, s.Pool(), sub, 1)
	require.NoError(t, s.ResolveIntent(ctx, intent, pid, generation.PredictionStarting))
	_, res, err := s.RecordOutcome(ctx, generation.Prediction{ID: pid, Status: generation.PredictionSucceeded,
		OutputURLs: []string{"https://replicate.delivery/" + pid + ".png"}})
	require.NoError(t, err)
	require.Equal(t, generation.Recorded, res)
	return pid
}

func TestKeepAndReserveKeepsAppendsAndReservesInOneTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.New(t).Pool)
	sub := newSubscriber(t, s, 2)
	_, err := s.StartGeneration(ctx, sub)
	require.NoError(t, err)
	win := store.Window{Batch: 5, Budget: 10}

	first, second := finished(t, s, sub), finished(t, s, sub)
	k, err := s.KeepAndReserve(ctx, sub, []store.Photo{{ProviderID: first, URL: "https://files.example/1.png"}}, []int64{7, 8}, win, store.NoCreationLimit)
	require.NoError(t, err)
	require.Equal(t, store.AppendResult{Appended: 1, Photos: 1, TargetPhotos: 2, Status: generation.StatusGenerating}, k.Append)
	require.Empty(t, k.Intents, "the window holds one open prediction and one photo is owed: no room")

	// The second photo completes the generation: nothing is reserved after it.
	k, err = s.KeepAndReserve(ctx, sub, []store.Photo{{ProviderID: second, URL: "https://files.example/2.png"}}, []int64{9}, win, store.NoCreationLimit)
	require.NoError(t, err)
	require.Equal(t, store.AppendResult{Appended: 1, Photos: 2, TargetPhotos: 2, Status: generation.StatusCompleted}, k.Append)
	require.Empty(t, k.Intents)
	l, err := s.LedgerFor(ctx, sub)
	require.NoError(t, err)
	require.Equal(t, 0, l.Open())
	require.Equal(t, 2, l.Photos)

	// A keep that gives room reserves its replacement in the same transaction.
	other := newSubscriber(t, s, 30)
	_, err = s.StartGeneration(ctx, other)
	require.NoError(t, err)
	k, err = s.KeepAndReserve(ctx, other, []store.Photo{{ProviderID: finished(t, s, other), URL: "https://files.example/3.png"}}, []int64{11}, win, store.NoCreationLimit)
	require.NoError(t, err)
	require.Equal(t, 1, k.Append.Photos)
	require.Len(t, k.Intents, 1)
	require.Equal(t, int64(11), k.Intents[0].Seed)

	// Photos kept together are appended in one statement, and replaced together.
	a, b := finished(t, s, other), finished(t, s, other)
	k, err = s.KeepAndReserve(ctx, other, []store.Photo{{ProviderID: a, URL: "https://files.example/4.png"}, {ProviderID: b, URL: "https://files.example/5.png"}},
		[]int64{12, 13}, win, store.NoCreationLimit)
	require.NoError(t, err)
	require.Equal(t, store.AppendResult{Appended: 2, Photos: 3, TargetPhotos: 30, Status: generation.StatusGenerating}, k.Append)
	require.Len(t, k.Intents, 2)
}
