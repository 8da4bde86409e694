// This file hands back jobs that River still has running under a live client that no
// longer works them (see worker/handback.go). It writes River's river_job table, whose
// columns it relies on are pinned by TestHandBackJobsRelyOnRiversColumns.

package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// HandBackJobs deletes the jobs of kind that are running under clientID (the last of
// their attempted_by) in exactly the attempt given (job id -> its attempted_at, which
// each fetch rewrites), and returns the subscribers they were for. A job fetched again
// since, or running under another client, is left alone. Deleting, rather than making the row
// available, keeps River's completer from ever landing a late write of the dropped
// outcome on a later attempt: it updates rows by id. Insert a fresh job for each
// subscriber in the same transaction.
func (s *Store) HandBackJobs(ctx context.Context, clientID, kind string, ended map[int64]time.Time) ([]uuid.UUID, error) {
	ids := make([]int64, 0, len(ended))
	ats := make([]time.Time, 0, len(ended))
	for id, at := range ended {
		ids, ats = append(ids, id), append(ats, at)
	}
	const q = `DELETE FROM river_job j
		USING unnest($1::bigint[], $2::timestamptz[]) AS e(id, attempted_at)
		WHERE j.id = e.id AND j.attempted_at = e.attempted_at AND j.state = 'running' AND j.kind = $3
		  AND j.attempted_by[cardinality(j.attempted_by)] = $4
		RETURNING (j.args->>'subscriber_id')::uuid`
	rows, err := s.db.Query(ctx, q, ids, ats, kind, clientID)
	if err != nil {
		return nil, translate("hand back jobs", err)
	}
	subs, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return subs, translate("hand back jobs", err)
}

// HandBackLostJobs deletes the jobs of kind that are running under clientID though that
// client does not run them (running: the ids it runs now) and has not for longer than
// settle: a fetch whose answer was lost with the connection (River marked the rows
// running under this client, which never saw them), or an attempt whose outcome River
// dropped. settle covers the moment between a fetch and its attempt's start. It returns
// the subscribers they were for; insert a fresh job for each in the same transaction.
func (s *Store) HandBackLostJobs(ctx context.Context, clientID, kind string, running []int64, settle time.Duration) ([]uuid.UUID, error) {
	const q = `DELETE FROM river_job j
		WHERE j.state = 'running' AND j.kind = $1
		  AND j.attempted_by[cardinality(j.attempted_by)] = $2
		  AND j.attempted_at < now() - make_interval(secs => $3)
		  AND NOT (j.id = ANY($4::bigint[]))
		RETURNING (j.args->>'subscriber_id')::uuid`
	rows, err := s.db.Query(ctx, q, kind, clientID, settle.Seconds(), running)
	if err != nil {
		return nil, translate("hand back lost jobs", err)
	}
	subs, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return subs, translate("hand back lost jobs", err)
}
