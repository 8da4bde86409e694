// This file reads River's queue for operators: job counts by state, the oldest job
// waiting, and a subscriber's jobs.

package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// QueueStats is River's queue at a glance.
type QueueStats struct {
	ByState         map[string]int
	OldestAvailable *time.Duration // age of the oldest job waiting to run, nil when none waits
}

// Queue reads job counts by state and the oldest available job's age from river_job.
func (s *Store) Queue(ctx context.Context) (QueueStats, error) {
	st := QueueStats{ByState: map[string]int{}}
	rows, err := s.db.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY 1`)
	if err != nil {
		return st, translate("queue stats", err)
	}
	var state string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error { st.ByState[state] = n; return nil }); err != nil {
		return st, translate("queue stats", err)
	}
	var age *time.Duration
	err = s.db.QueryRow(ctx, `SELECT now() - min(scheduled_at) FROM river_job
		WHERE state = 'available' AND scheduled_at <= now()`).Scan(&age)
	st.OldestAvailable = age
	return st, translate("oldest available job", err)
}

// Job is one River job of a subscriber, for operators.
type Job struct {
	ID       int64
	Kind     string
	State    string
	Attempt  int
	Errors   int
	Created  time.Time
	Finished *time.Time
}

// JobsFor lists the River jobs whose args name the subscriber, newest first.
func (s *Store) JobsFor(ctx context.Context, subscriberID uuid.UUID) ([]Job, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, state::text, attempt, coalesce(array_length(errors, 1), 0),
		created_at, finalized_at FROM river_job WHERE args->>'subscriber_id' = $1 ORDER BY id DESC`, subscriberID.String())
	if err != nil {
		return nil, translate("jobs", err)
	}
	var jobs []Job
	var j Job
	_, err = pgx.ForEachRow(rows, []any{&j.ID, &j.Kind, &j.State, &j.Attempt, &j.Errors, &j.Created, &j.Finished}, func() error {
		jobs = append(jobs, j)
		return nil
	})
	return jobs, translate("jobs", err)
}
