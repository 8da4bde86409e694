package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
	"photogen/store"
	"photogen/usage"
)

func TestIncrementResumeCounterKeepsTheSeedContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	user := uuid.New()
	call := func(fn string, limit int) int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT `+fn+`($1, $2)`, user, limit).Scan(&n))
		return n
	}
	require.Equal(t, 1, call("increment_resume_counter", 3))
	require.Equal(t, 2, call("increment_resume_counter", 3))
	require.Equal(t, 3, call("increment_resume_counter", 3))
	require.Equal(t, -1, call("increment_resume_counter", 3), "-1 at the limit")
	require.Equal(t, -1, call("increment_resume_counter", 3))
	require.Equal(t, 1, call("increment_review_counter", 10), "reviews count apart")
	require.Equal(t, -1, call("increment_review_counter", 0), "a zero limit refuses")
	var stored int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT used FROM usage_counters WHERE user_id = $1 AND counter = 'resumes'`, user).Scan(&stored))
	require.Equal(t, 3, stored, "refusals write nothing")

	// Named arguments, as the seed's app called them.
	var n int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT increment_resume_counter(p_user_id => $1, p_limit => 4)`, user).Scan(&n))
	require.Equal(t, 4, n, "the limit is the caller's argument")

	_, err := db.Pool.Exec(ctx, `SELECT increment_resume_counter($1, -1)`, user)
	require.ErrorContains(t, err, "limit must be >= 0")
}

func TestCounterResetsWhenANewUTCMonthBegins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	user := uuid.New()
	at := func(ts string) int {
		tm, err := time.Parse(time.RFC3339, ts)
		require.NoError(t, err)
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT increment_resume_counter($1, 3, $2)`, user, tm).Scan(&n))
		return n
	}
	require.Equal(t, 1, at("2027-01-02T10:00:00Z"))
	require.Equal(t, 2, at("2027-01-20T10:00:00Z"))
	require.Equal(t, 3, at("2027-01-31T23:59:58Z"))
	require.Equal(t, -1, at("2027-01-31T23:59:59Z"), "at the limit on the last second of January")
	require.Equal(t, 1, at("2027-02-01T00:00:00Z"), "accepted again on 1 February, counting from 1")
	require.Equal(t, 2, at("2027-02-01T00:30:00Z"))
	require.Equal(t, 1, at("2027-02-28T23:30:00-01:00"), "UTC decides the month: this is 1 March in UTC")
	require.Equal(t, 1, at("2027-04-15T00:00:00Z"), "a skipped month resets too")
}

func TestConsumeUsageFirstUseIsRaceFree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	user := uuid.New()
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			u, err := s.ConsumeUsage(ctx, user, "resumes", 3)
			if err != nil {
				t.Error(err)
				return
			}
			if u.Accepted {
				accepted.Add(1)
			} else {
				require.Equal(t, 3, u.Used, "a refusal reports the count")
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(3), accepted.Load())
	used, err := s.UsageFor(ctx, user, usage.PeriodStart(time.Now()))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"resumes": 3}, used)
}

func TestTakePredictionSlotsIsAFleetWideSlidingWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	s := store.New(db.Pool)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			n, wait, err := s.TakePredictionSlots(ctx, 3, 10, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			granted.Add(int32(n))
			if n < 3 {
				require.Greater(t, wait, 50*time.Second, "the oldest grant leaves the window in about a minute")
			} else {
				require.Zero(t, wait)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(10), granted.Load(), "never more than the limit, across all callers")
	time.Sleep(250 * time.Millisecond)
	n, wait, err := s.TakePredictionSlots(ctx, 5, 10, 200*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, 5, n, "grants older than the window no longer count")
	require.Zero(t, wait)
}
