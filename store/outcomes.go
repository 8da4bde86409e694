// This file records what the provider reports of a prediction (a webhook, a synchronous
// create answer, a fallback check), and the keeping of a finished prediction's image.

package store

import (
	"context"

	"github.com/google/uuid"

	"photogen/generation"
)

// RecordOutcome writes the provider's report of p to the ledger: still in flight (its
// status, and when we heard of it), finished (succeeded, with the output URL to keep)
// or failed with its reason. Only a prediction in flight changes, and never back from
// processing to starting, so repeats and late or reordered reports change nothing
// (Duplicate). A report that arrives before the create's answer is recorded is matched
// to its intent by the seed and prompt of its input. An id the ledger does not have
// is Unknown. It returns the subscriber the prediction belongs to.
func (s *Store) RecordOutcome(ctx context.Context, p generation.Prediction) (uuid.UUID, generation.RecordResult, error) {
	status, outputURL, reason := p.Ledger()
	const q = `WITH known AS (
		    SELECT id, subscriber_id, status FROM predictions WHERE provider_id = $1
		), by_id AS (
		    UPDATE predictions
		    SET status = $2, provider_output_url = coalesce(nullif($3, ''), provider_output_url),
		        error = nullif($4, ''),
		        completed_at = CASE WHEN $2 IN ('starting', 'processing') THEN completed_at ELSE now() END,
		        checked_at = now(), updated_at = now()
		    WHERE id = (SELECT id FROM known) AND status IN ('starting', 'processing')
		      AND NOT (status = 'processing' AND $2 = 'starting')
		    RETURNING subscriber_id
		), by_seed AS (
		    UPDATE predictions p
		    SET provider_id = $1, status = $2, provider_output_url = nullif($3, ''), error = nullif($4, ''),
		        completed_at = CASE WHEN $2 IN ('starting', 'processing') THEN NULL ELSE now() END,
		        checked_at = now(), updated_at = now()
		    FROM subscribers s
		    WHERE NOT EXISTS (SELECT 1 FROM known) AND $5::bigint > 0
		      AND p.status = 'creating' AND p.seed = $5 AND s.id = p.subscriber_id
		      AND s.strategy->>'prompt' = $6
		      AND p.id = (SELECT min(c.id) FROM predictions c
		                  WHERE c.status = 'creating' AND c.seed = $5 AND c.subscriber_id = s.id)
		    RETURNING p.subscriber_id
		)
		SELECT coalesce((SELECT subscriber_id FROM by_id), (SELECT subscriber_id FROM by_seed)),
		       (SELECT subscriber_id FROM known)`
	for try := 0; ; try++ {
		var changed, known *uuid.UUID
		if err := s.db.QueryRow(ctx, q, p.ID, status, outputURL, reason, p.Seed, p.Prompt).Scan(&changed, &known); err != nil {
			return uuid.Nil, "", translate("record outcome of "+p.ID, err)
		}
		switch {
		case changed != nil:
			return *changed, generation.Recorded, nil
		case known != nil:
			return *known, generation.Duplicate, nil
		case try == 0:
			// The intent may have been resolved while this statement waited for its row:
			// look again, once, with a fresh snapshot.
			continue
		}
		return uuid.Nil, generation.Unknown, nil
	}
}

// KeepPrediction records that a finished prediction's image is in our bucket at url:
// it is now succeeded, and the append may take it.
func (s *Store) KeepPrediction(ctx context.Context, providerID, url string) error {
	const q = `UPDATE predictions SET status = 'succeeded', output_url = $2, updated_at = now()
		WHERE provider_id = $1 AND status = 'finished'`
	_, err := s.db.Exec(ctx, q, providerID, url)
	return translate("keep prediction "+providerID, err)
}

// DiscardFinished records that a finished prediction's output cannot be used (gone, not
// an image, too large): it counts as failed, and is replaced.
func (s *Store) DiscardFinished(ctx context.Context, providerID, reason string) error {
	const q = `UPDATE predictions SET status = 'failed', error = $2, updated_at = now()
		WHERE provider_id = $1 AND status = 'finished'`
	_, err := s.db.Exec(ctx, q, providerID, reason)
	return translate("discard prediction "+providerID, err)
}
