// This file runs the chart's autoscaling query against a database migrated with River's
// tables and photogen's, with generation jobs in every state River has, and checks which
// it counts: running, available, and asleep but due; not asleep until later, not
// finished, and not another kind.

package scaling

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"photogen/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const queryFile = "../helm/photogen/files/autoscaling-query.sql"

func TestAutoscalingQueryCountsTheJobsThatWantASlot(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	query, err := os.ReadFile(queryFile)
	require.NoError(t, err)

	count := func() int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, string(query)).Scan(&n))
		return n
	}
	require.Equal(t, 0, count(), "an empty queue wants no worker")

	jobs := []struct {
		kind, state string
		scheduled   time.Duration // scheduled_at, from now
		counted     bool
	}{
		{"generate_photos", "available", -time.Second, true},
		{"generate_photos", "running", -time.Second, true},
		{"generate_photos", "scheduled", -time.Second, true},      // asleep, due: River makes it available
		{"generate_photos", "retryable", -time.Second, true},      // backing off, due
		{"generate_photos", "scheduled", 30 * time.Second, false}, // asleep until its next check: no slot held
		{"generate_photos", "retryable", time.Minute, false},
		{"generate_photos", "pending", -time.Second, false},
		{"generate_photos", "completed", -time.Second, false},
		{"generate_photos", "cancelled", -time.Second, false},
		{"generate_photos", "discarded", -time.Second, false},
		{"cancel_predictions", "available", -time.Second, false},
		{"cancel_predictions", "running", -time.Second, false},
	}
	// River's own columns; finished jobs carry finalized_at (a CHECK of River's), running
	// ones attempted_at.
	const insert = `INSERT INTO river_job (kind, state, scheduled_at, args, max_attempts, priority, queue, attempt, attempted_at, finalized_at)
		VALUES ($1, $2::river_job_state, now() + $3::interval, '{}', 10, 1, 'default',
		        CASE WHEN $2 IN ('running', 'completed', 'cancelled', 'discarded') THEN 1 ELSE 0 END,
		        CASE WHEN $2 IN ('running', 'completed', 'cancelled', 'discarded') THEN now() END,
		        CASE WHEN $2 IN ('completed', 'cancelled', 'discarded') THEN now() END)`
	want := 0
	for _, j := range jobs {
		_, err := db.Pool.Exec(ctx, insert, j.kind, j.state, j.scheduled)
		require.NoError(t, err, "%s %s", j.kind, j.state)
		if j.counted {
			want++
		}
		require.Equal(t, want, count(), "after a %s job %s (scheduled in %s)", j.kind, j.state, j.scheduled)
	}
}
