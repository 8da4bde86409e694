package worker_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"photogen/internal/fakereplicate"
	"photogen/internal/testdb"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
	"photogen/worker"

	"photogen/generation"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type fixture struct {
	db       *testdb.DB
	store    *store.Store
	fake     *fakereplicate.Server
	provider *provider.Replicate
	keeper   *photos.Keeper
}

func newFixture(t *testing.T, fc fakereplicate.Config, model string) *fixture {
	t.Helper()
	db := testdb.New(t)
	fake := fakereplicate.New(fc)
	ts := httptest.NewServer(fake)
	t.Cleanup(func() { ts.Close(); fake.Close() })
	p, err := provider.NewReplicate(provider.ReplicateConfig{Token: "t", BaseURL: ts.URL + "/v1", Model: model})
	require.NoError(t, err)
	local, err := photos.NewLocal(photos.LocalConfig{Dir: t.TempDir(), BaseURL: "http://photos.example", NameSecret: []byte("0123456789abcdef")})
	require.NoError(t, err)
	return &fixture{db: db, store: store.New(db.Pool), fake: fake, provider: p, keeper: &photos.Keeper{Bucket: local}}
}

// paidSubscriber creates a subscriber with target photos, paid and queued.
func (f *fixture) paidSubscriber(t *testing.T, target int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	hash := sha256.Sum256([]byte(uuid.NewString()))
	id, err := f.store.CreateSubscriber(ctx, store.NewSubscriber{Email: uuid.NewString() + "@example.com",
		Strategy: map[string]any{"prompt": "a heron"}, AccessTokenHash: hash[:], TargetPhotos: target})
	require.NoError(t, err)
	_, err = f.store.MarkPaid(ctx, id, "")
	require.NoError(t, err)
	return id
}

// work runs the job's attempts as River would run them, one after the other, until one
// ends otherwise than asleep (waiting for the provider), and returns its result. There
// is no River client here: an attempt's sleep is its returned snooze, and the next
// attempt starts after it, at most 20 ms later.
func (f *fixture) work(t *testing.T, cfg worker.Config, id uuid.UUID, attempt int) error {
	t.Helper()
	w, err := worker.NewGenerateWorker(f.store, f.provider, f.keeper, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := w.Work(ctx, &river.Job[generation.GenerateArgs]{
			JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: generation.MaxAttempts},
			Args:   generation.GenerateArgs{SubscriberID: id},
		})
		var snooze *river.JobSnoozeError
		if !errors.Is(err, worker.ErrAsleep) || !errors.As(err, &snooze) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(snooze.Duration, 20*time.Millisecond)):
		}
	}
}

// fast checks a prediction still running after its synchronous wait every 5 ms instead
// of every 5 s: these tests are about what the ledger holds, not about timing.
var fast = worker.Config{PollInterval: 5 * time.Millisecond}

func TestFailedPredictionsAreRecordedAndReplaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{Latency: 10 * time.Millisecond, FailRate: 0.3, Seed: 3}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 30)
	require.NoError(t, f.work(t, fast, id, 1))

	sub, err := f.store.SubscriberByID(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusCompleted, sub.Status)
	require.Len(t, sub.PhotoURLs, 30)
	ledger, err := f.store.LedgerFor(context.Background(), id)
	require.NoError(t, err)
	stats := f.fake.Stats()
	require.Positive(t, stats.Failed, "the seed makes some fail")
	require.Equal(t, 30+stats.Failed, stats.Created, "each failure replaced once, nothing more")
	require.Equal(t, stats.Created, ledger.Created, "every prediction is in the ledger")
	require.Equal(t, stats.Failed, ledger.Failed)
	require.LessOrEqual(t, stats.MaxInFlight, 5)
}

func TestBudgetExhaustedFailsTheGeneration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond, FailRate: 1}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 5)
	cfg := fast
	cfg.PredictionBudget = 12
	err := f.work(t, cfg, id, 1)
	var cancel *river.JobCancelError
	require.ErrorAs(t, err, &cancel, "a spent budget is final")

	sub, err := f.store.SubscriberByID(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusFailed, sub.Status)
	require.NotNil(t, sub.Error)
	require.Contains(t, *sub.Error, "prediction budget of 12 exhausted")
	require.Equal(t, 12, f.fake.Stats().Created, "exactly the budget was spent")
}

func TestInFlightPredictionsAreAwaitedNotRecreated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{Latency: 50 * time.Millisecond}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 6)
	ctx := context.Background()
	// A previous attempt created three predictions and died before they finished.
	for range 3 {
		p, err := f.provider.Create(ctx, "a heron", 1)
		require.NoError(t, err)
		intent := testdb.AddIntent(t, f.db.Pool, id, 1)
		require.NoError(t, f.store.ResolveIntent(ctx, intent, p.ID, generation.PredictionStarting))
	}
	require.NoError(t, f.work(t, fast, id, 2))
	require.Equal(t, 6, f.fake.Stats().Created, "three re-attached, three new")
	sub, err := f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	require.Len(t, sub.PhotoURLs, 6)
}

func TestSingleURLOutputIsAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond}, "black-forest-labs/flux-1.1-pro")
	id := f.paidSubscriber(t, 2)
	require.NoError(t, f.work(t, fast, id, 1))
	sub, err := f.store.SubscriberByID(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, sub.PhotoURLs, 2)
}

func TestRateLimitSnoozesAndPermanentErrorsFail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{RateLimitRate: 1, RetryAfter: 45 * time.Second}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 3)
	err := f.work(t, fast, id, 1)
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze, "a long Retry-After snoozes instead of burning an attempt")
	require.Equal(t, 45*time.Second, snooze.Duration, "as long as Retry-After says")
	require.Zero(t, f.fake.Stats().Created)

	// Short Retry-After and 5xx on create are waited out in place: nothing is lost or doubled.
	flaky := newFixture(t, fakereplicate.Config{RateLimitRate: 0.3, ServerErrorRate: 0.2, Seed: 5}, "black-forest-labs/flux-schnell")
	id = flaky.paidSubscriber(t, 5)
	require.NoError(t, flaky.work(t, fast, id, 1))
	st := flaky.fake.Stats()
	require.Positive(t, st.RateLimited+st.ServerErrors, "faults were injected")
	require.Equal(t, 5, st.Created, "exactly the target created")

	bad := newFixture(t, fakereplicate.Config{Token: "right"}, "black-forest-labs/flux-schnell")
	id = bad.paidSubscriber(t, 3)
	err = bad.work(t, fast, id, 1)
	var cancel *river.JobCancelError
	require.ErrorAs(t, err, &cancel, "a bad token needs a person, not retries")
	sub, err := bad.store.SubscriberByID(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusFailed, sub.Status)
	require.Contains(t, *sub.Error, "401")
}

func TestServerErrorsDelayTheGenerationEvenOnItsLastAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{ServerErrorRate: 1}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 3)
	// An outage is no failure of the job: it snoozes (no attempt spent), even on what
	// would be its last attempt, until OUTAGE_LIMIT (delay_test.go).
	err := f.work(t, fast, id, generation.MaxAttempts)
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze, "a 5xx after the tries in place delays the generation")
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel))
	sub, err := f.store.SubscriberByID(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, generation.StatusGenerating, sub.Status)
	require.NotNil(t, sub.Delay)
	require.Equal(t, generation.DelayProvider, sub.Delay.Reason)
	require.Zero(t, f.fake.Stats().Created, "nothing created, nothing paid")
}

func TestLostCreateAnswersAreReconciledNotPaidTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fakereplicate.Config{Latency: 20 * time.Millisecond}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 4)
	ctx := context.Background()
	// A previous attempt wrote two intents and died: one create reached the provider
	// (its answer was lost), the other never left the process.
	_, err := f.provider.Create(ctx, "a heron", 4242)
	require.NoError(t, err)
	testdb.AddIntent(t, f.db.Pool, id, 4242)
	testdb.AddIntent(t, f.db.Pool, id, 777)

	require.NoError(t, f.work(t, fast, id, 2))
	require.Equal(t, 4, f.fake.Stats().Created, "the lost one was adopted, not created again")
	var statuses []string
	require.NoError(t, f.db.Pool.QueryRow(ctx, `SELECT array_agg(status ORDER BY id) FROM predictions WHERE seed IN (4242, 777)`).Scan(&statuses))
	require.Equal(t, []string{"succeeded", "abandoned"}, statuses)
	ledger, err := f.store.LedgerFor(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 4, ledger.Created, "spend counts only what the provider created")
}

func TestPhotosAreOursBeforeTheyCount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fakereplicate.Config{Latency: 5 * time.Millisecond}, "black-forest-labs/flux-schnell")
	id := f.paidSubscriber(t, 3)
	require.NoError(t, f.work(t, fast, id, 1))
	sub, err := f.store.SubscriberByID(ctx, id)
	require.NoError(t, err)
	for _, u := range sub.PhotoURLs {
		require.Regexp(t, `^http://photos\.example/photos/[0-9a-f]{32}\.png$`, u, "our storage, an unguessable name")
	}
	var audit int
	require.NoError(t, f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM predictions WHERE provider_output_url LIKE 'http://127.0.0.1:%/files/%'`).Scan(&audit))
	require.Equal(t, 3, audit, "the provider's URL is kept for audit")
}

func TestUnusableOutputsAreNeverAppended(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		fake     fakereplicate.Config
		maxBytes int64
		reason   string
	}{
		"not an image": {fakereplicate.Config{BadOutputRate: 1}, 0, "not a supported image"},
		"too large":    {fakereplicate.Config{}, 100, "exceeds size limit"},
		"gone (404)":   {fakereplicate.Config{MissingFileRate: 1}, 0, "status 404"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.fake, "black-forest-labs/flux-schnell")
			f.keeper.MaxBytes = tc.maxBytes
			id := f.paidSubscriber(t, 2)
			cfg := fast
			cfg.PredictionBudget = 4
			var cancel *river.JobCancelError
			require.ErrorAs(t, f.work(t, cfg, id, 1), &cancel)
			sub, err := f.store.SubscriberByID(context.Background(), id)
			require.NoError(t, err)
			require.Empty(t, sub.PhotoURLs, "never appended")
			require.Equal(t, generation.StatusFailed, sub.Status)
			var reasons []string
			require.NoError(t, f.db.Pool.QueryRow(context.Background(), `SELECT array_agg(error) FROM predictions`).Scan(&reasons))
			for _, r := range reasons {
				require.Contains(t, r, tc.reason)
			}
			require.Equal(t, 4, f.fake.Stats().Created, "each replaced within the budget")
		})
	}
}
