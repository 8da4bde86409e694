// This file is the ledger of predictions: the window's rule (Ledger.Room), the intents
// written before each create call and how they are settled, the ledger read in one
// query, and the capped statement that appends the kept photos.

package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"photogen/generation"
)

// CreationLimit is the fleet's limit on prediction creations, shared by every worker
// through the database (take_provider_slots): PerWindow creations per Window. A negative
// PerWindow is no limit (NoCreationLimit).
type CreationLimit struct {
	PerWindow int
	Window    time.Duration
}

// NoCreationLimit reserves without taking slots of the fleet's limit: for the retry of a
// create the provider refused, whose slot was taken with its first intent.
var NoCreationLimit = CreationLimit{PerWindow: -1}

// ReserveCreations writes the intents of new predictions of the subscriber, one per seed
// of seeds (in order), as many as the window has room for (Ledger.Room) and the fleet's
// limit grants now. It locks the subscriber's row first (in its own transaction
// when s is not in one), so concurrent reservations cannot overshoot together, and
// reserves nothing unless the generation is generating. The limit's slots are taken in
// the same transaction, only for the intents written: a slot is never taken and given
// back, so no other subscriber ever finds the limit full for slots nobody used. The
// seed goes in the provider's input, so that a create whose answer is lost can be found
// (see Intent). It returns the intents written, in the order of seeds, and, when the
// fleet's limit granted fewer than the window allowed, how long until its next slot.
func (s *Store) ReserveCreations(ctx context.Context, subscriberID uuid.UUID, seeds []int64, win Window, limit CreationLimit) (intents []Intent, wait time.Duration, err error) {
	if s.tx == nil {
		err = s.WithTx(ctx, func(tx *Store) error {
			var err error
			intents, wait, err = tx.ReserveCreations(ctx, subscriberID, seeds, win, limit)
			return err
		})
		return intents, wait, err
	}
	// The row lock first, in a statement of its own: the ledger is then read with a
	// snapshot taken after the lock is held, and sees every reservation committed before.
	// (In one statement, the snapshot would predate a wait for the lock.)
	sub, err := s.LockSubscriber(ctx, subscriberID)
	if err != nil {
		return nil, 0, translate("reserve creations", err)
	}
	if sub.Status != generation.StatusGenerating {
		return nil, 0, nil
	}
	return s.reserveLocked(ctx, subscriberID, seeds, win, limit)
}

// reserveLocked is ReserveCreations once the subscriber's row is locked in this
// transaction and its generation is known to be generating.
func (s *Store) reserveLocked(ctx context.Context, subscriberID uuid.UUID, seeds []int64, win Window, limit CreationLimit) (intents []Intent, wait time.Duration, err error) {
	l, err := s.LedgerFor(ctx, subscriberID)
	if err != nil {
		return nil, 0, err
	}
	k := min(len(seeds), l.Room(win))
	if k > 0 && limit.PerWindow >= 0 {
		if k, wait, err = s.TakePredictionSlots(ctx, k, limit.PerWindow, limit.Window); err != nil {
			return nil, 0, err
		}
	}
	if k == 0 {
		return nil, wait, nil
	}
	const q = `INSERT INTO predictions (subscriber_id, status, seed)
		SELECT $1, 'creating', s.seed FROM unnest($2::bigint[]) WITH ORDINALITY AS s(seed, n) ORDER BY s.n
		RETURNING id, seed, created_at`
	rows, err := s.db.Query(ctx, q, subscriberID, seeds[:k])
	if err != nil {
		return nil, 0, translate("reserve creations", err)
	}
	intents, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Intent])
	return intents, wait, translate("reserve creations", err)
}

// Kept is what KeepAndReserve did: the subscriber's photo count after its append, and
// the intents it reserved.
type Kept struct {
	Append  AppendResult
	Intents []Intent
}

// Photo is a finished prediction whose image is now in our bucket at URL.
type Photo struct {
	ProviderID string
	URL        string
}

// KeepAndReserve is the one transaction of the photos kept together: it records that
// each finished prediction's image is in our bucket (KeepPrediction), appends the
// subscriber's kept photos in one statement (the capped statement, AppendSucceeded) and,
// while the generation is still generating, reserves the intents of the predictions that
// replace them, one per seed, by ReserveCreations' rule. The subscriber's row is locked
// first, as the append and every reservation lock it; the photos are in our bucket
// before their URLs can be appended, and the intents are durable before their creates
// leave.
func (s *Store) KeepAndReserve(ctx context.Context, subscriberID uuid.UUID, photos []Photo, seeds []int64, win Window, limit CreationLimit) (k Kept, err error) {
	err = s.WithTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM subscribers WHERE id = $1 FOR UPDATE`, subscriberID); err != nil {
			return translate("keep photos", err)
		}
		for _, p := range photos {
			if err := tx.KeepPrediction(ctx, p.ProviderID, p.URL); err != nil {
				return err
			}
		}
		if k.Append, err = tx.AppendSucceeded(ctx, subscriberID); err != nil || k.Append.Status != generation.StatusGenerating || len(seeds) == 0 {
			return err
		}
		k.Intents, _, err = tx.reserveLocked(ctx, subscriberID, seeds, win, limit)
		return err
	})
	return k, err
}

// IntentOpen reports whether the intent is still creating: neither resolved with the
// provider's id nor abandoned.
func (s *Store) IntentOpen(ctx context.Context, intentID int64) (bool, error) {
	var open bool
	err := s.db.QueryRow(ctx, `SELECT status = 'creating' FROM predictions WHERE id = $1`, intentID).Scan(&open)
	return open, translate("intent", err)
}

// ResolveIntent completes an intent with the prediction the provider created.
func (s *Store) ResolveIntent(ctx context.Context, intentID int64, providerID string, status generation.PredictionStatus) error {
	const q = `UPDATE predictions SET provider_id = $2, status = $3, checked_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'creating'`
	_, err := s.db.Exec(ctx, q, intentID, providerID, status)
	return translate("resolve intent", err)
}

// AbandonIntent marks an intent that never became a prediction; it costs nothing.
func (s *Store) AbandonIntent(ctx context.Context, intentID int64, reason string) error {
	const q = `UPDATE predictions SET status = 'abandoned', error = $2, completed_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'creating'`
	_, err := s.db.Exec(ctx, q, intentID, reason)
	return translate("abandon intent", err)
}

// FinishPrediction records a prediction's final status: for a success, the URL of the
// photo in our storage and the provider's own output URL (kept for audit); otherwise
// the error text. A prediction already final is left as it is.
func (s *Store) FinishPrediction(ctx context.Context, providerID string, status generation.PredictionStatus, outputURL, providerURL, errText *string) error {
	const q = `UPDATE predictions
		SET status = $2, output_url = $3, provider_output_url = $4, error = $5, completed_at = now(), updated_at = now()
		WHERE provider_id = $1 AND status IN ('starting', 'processing')`
	_, err := s.db.Exec(ctx, q, providerID, status, outputURL, providerURL, errText)
	return translate("finish prediction "+providerID, err)
}

// Window bounds a subscriber's predictions: Batch open at once, Budget created in all.
type Window struct {
	Batch  int // predictions open at once (PHOTO_BATCH_SIZE)
	Budget int // predictions the subscriber may cost in all
}

// Ledger is what the ledger holds for one subscriber, with its photo counts, all read in
// one snapshot.
type Ledger struct {
	Photos     int        // photos appended to the subscriber
	Target     int        // photos the subscriber paid for
	Unappended int        // photos kept and not yet appended
	Created    int        // predictions created at the provider: the spend
	Failed     int        // failed, canceled or aborted
	InFlight   []InFlight // starting or processing at the provider
	ToKeep     []Finished // succeeded at the provider, the image not yet kept
	Intents    []Intent   // creations whose answer never reached the ledger
}

// Open is how many predictions occupy the subscriber's window: in flight, to keep, or
// being created.
func (l Ledger) Open() int { return len(l.InFlight) + len(l.ToKeep) + len(l.Intents) }

// Room is how many more predictions may be created now, the one rule of the window: no
// more open than win.Batch, no more open than the photos still owed (appended and kept
// photos count as made), and no more created in all than win.Budget. The append moves
// photos from Unappended to Photos, so a ledger read before it still counts right.
func (l Ledger) Room(win Window) int {
	owed := l.Target - l.Photos - l.Unappended
	return max(0, min(win.Batch-l.Open(), owed-l.Open(), win.Budget-l.Created-len(l.Intents)))
}

// InFlightIDs returns the provider ids of the predictions in flight.
func (l Ledger) InFlightIDs() []string {
	ids := make([]string, len(l.InFlight))
	for i, p := range l.InFlight {
		ids[i] = p.ProviderID
	}
	return ids
}

// InFlight is a prediction the provider is still working on.
type InFlight struct {
	ProviderID string
	CreatedAt  time.Time
	CheckedAt  time.Time // when we last heard of it
}

// Finished is a prediction that succeeded at the provider, with the output to keep.
type Finished struct {
	ProviderID  string
	OutputURL   string    // the provider's
	CreatedAt   time.Time // when its creation was reserved
	CompletedAt time.Time // when its end was recorded
}

// Intent is a creation begun and not known to have finished.
type Intent struct {
	ID        int64
	Seed      int64
	CreatedAt time.Time
}

// LedgerFor summarises the subscriber's predictions and photo counts in one query.
func (s *Store) LedgerFor(ctx context.Context, subscriberID uuid.UUID) (Ledger, error) {
	const q = `SELECT coalesce((SELECT jsonb_array_length(photo_urls) FROM subscribers WHERE id = $1), 0),
		       coalesce((SELECT target_photos FROM subscribers WHERE id = $1), 0),
		       count(*) FILTER (WHERE status = 'succeeded' AND appended_at IS NULL),
		       count(provider_id),
		       count(*) FILTER (WHERE status IN ('failed', 'canceled', 'aborted')),
		       coalesce(array_agg(provider_id ORDER BY id) FILTER (WHERE status IN ('starting', 'processing')), '{}'),
		       coalesce(array_agg(created_at ORDER BY id) FILTER (WHERE status IN ('starting', 'processing')), '{}'),
		       coalesce(array_agg(coalesce(checked_at, updated_at) ORDER BY id) FILTER (WHERE status IN ('starting', 'processing')), '{}'),
		       coalesce(array_agg(provider_id ORDER BY id) FILTER (WHERE status = 'finished'), '{}'),
		       coalesce(array_agg(provider_output_url ORDER BY id) FILTER (WHERE status = 'finished'), '{}'),
		       coalesce(array_agg(coalesce(completed_at, updated_at) ORDER BY id) FILTER (WHERE status = 'finished'), '{}'),
		       coalesce(array_agg(created_at ORDER BY id) FILTER (WHERE status = 'finished'), '{}'),
		       coalesce(array_agg(id ORDER BY id) FILTER (WHERE status = 'creating'), '{}'),
		       coalesce(array_agg(seed ORDER BY id) FILTER (WHERE status = 'creating'), '{}'),
		       coalesce(array_agg(created_at ORDER BY id) FILTER (WHERE status = 'creating'), '{}')
		FROM predictions WHERE subscriber_id = $1`
	var l Ledger
	var flyIDs, keepIDs, keepURLs []string
	var flyCreated, flyChecked, keepDone, keepCreated, intentCreated []time.Time
	var intentIDs, seeds []int64
	err := s.db.QueryRow(ctx, q, subscriberID).Scan(&l.Photos, &l.Target, &l.Unappended, &l.Created, &l.Failed, &flyIDs, &flyCreated, &flyChecked,
		&keepIDs, &keepURLs, &keepDone, &keepCreated, &intentIDs, &seeds, &intentCreated)
	for i := range flyIDs {
		l.InFlight = append(l.InFlight, InFlight{ProviderID: flyIDs[i], CreatedAt: flyCreated[i], CheckedAt: flyChecked[i]})
	}
	for i := range keepIDs {
		l.ToKeep = append(l.ToKeep, Finished{ProviderID: keepIDs[i], OutputURL: keepURLs[i], CreatedAt: keepCreated[i], CompletedAt: keepDone[i]})
	}
	for i := range intentIDs {
		l.Intents = append(l.Intents, Intent{ID: intentIDs[i], Seed: seeds[i], CreatedAt: intentCreated[i]})
	}
	return l, translate("ledger", err)
}

// AppendResult is the subscriber's photo count after AppendSucceeded.
type AppendResult struct {
	Appended     int // photos added by this call
	Photos       int
	TargetPhotos int
	Status       generation.Status
}

// appendSucceeded is the one statement that moves photos from the ledger to the
// subscriber. It locks the subscriber's row; takes the succeeded, not yet appended
// predictions whose URL is not already stored, oldest first, no more than the gap to the
// target; appends their URLs; sets generated_at and completed when the target is
// reached; and marks those predictions appended. Run twice, it appends nothing twice.
// The CHECK constraint on subscribers refuses more than the target whatever this does.
const appendSucceeded = `
WITH sub AS (
    SELECT id, photo_urls, target_photos, generation_status
    FROM subscribers WHERE id = $1 FOR UPDATE
), pick AS (
    SELECT p.id, p.output_url, p.completed_at
    FROM predictions p JOIN sub ON p.subscriber_id = sub.id
    WHERE p.status = 'succeeded' AND p.appended_at IS NULL
      AND sub.generation_status IN ('queued', 'generating')
      AND NOT sub.photo_urls @> jsonb_build_array(p.output_url)
    ORDER BY p.completed_at, p.id
    LIMIT (SELECT greatest(target_photos - jsonb_array_length(photo_urls), 0) FROM sub)
), next AS (
    SELECT sub.id, sub.target_photos,
           sub.photo_urls || coalesce((SELECT jsonb_agg(output_url ORDER BY completed_at, id) FROM pick),
                                      '[]'::jsonb) AS urls
    FROM sub
), grown AS (
    UPDATE subscribers s
    SET photo_urls = next.urls,
        generated_at = CASE WHEN jsonb_array_length(next.urls) = next.target_photos THEN now() END,
        generation_status = CASE WHEN jsonb_array_length(next.urls) = next.target_photos
                                 THEN 'completed' ELSE s.generation_status END,
        updated_at = now()
    FROM next
    WHERE s.id = next.id AND EXISTS (SELECT 1 FROM pick)
    RETURNING jsonb_array_length(s.photo_urls) AS photos, s.generation_status
), marked AS (
    UPDATE predictions p SET appended_at = now(), updated_at = now()
    FROM grown
    WHERE p.id IN (SELECT id FROM pick)
    RETURNING p.id
)
SELECT (SELECT count(*) FROM marked),
       coalesce((SELECT photos FROM grown), (SELECT jsonb_array_length(photo_urls) FROM sub)),
       (SELECT target_photos FROM sub),
       coalesce((SELECT generation_status FROM grown), (SELECT generation_status FROM sub))
FROM sub`

// AppendSucceeded appends the subscriber's succeeded predictions to their photos, capped
// at the target and idempotent (see the statement's comment). It returns the counts
// after the append, or ErrNotFound for an unknown subscriber.
func (s *Store) AppendSucceeded(ctx context.Context, subscriberID uuid.UUID) (AppendResult, error) {
	var r AppendResult
	err := s.db.QueryRow(ctx, appendSucceeded, subscriberID).Scan(&r.Appended, &r.Photos, &r.TargetPhotos, &r.Status)
	return r, translate("append photos", err)
}

// PredictionsInFlight counts the predictions created (or being created) and not yet
// final or kept, fleet-wide.
func (s *Store) PredictionsInFlight(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM predictions
		WHERE status IN ('creating', 'starting', 'processing', 'finished')`).Scan(&n)
	return n, translate("predictions in flight", err)
}

// ModelPace is how long the recent predictions took, from their reservation to their
// end, fleet-wide (one model per deployment): the 95th percentile of the last n that
// ended at the provider, and how many it saw (fewer than n early on).
func (s *Store) ModelPace(ctx context.Context, n int) (p95 time.Duration, seen int, err error) {
	const q = `SELECT coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY d), 0), count(*)
		FROM (SELECT extract(epoch FROM completed_at - created_at) AS d FROM predictions
		      WHERE completed_at IS NOT NULL AND provider_id IS NOT NULL
		        AND status IN ('finished', 'succeeded', 'failed')
		      ORDER BY completed_at DESC LIMIT $1) recent`
	var secs float64
	err = s.db.QueryRow(ctx, q, n).Scan(&secs, &seen)
	return time.Duration(secs * float64(time.Second)), seen, translate("model pace", err)
}
