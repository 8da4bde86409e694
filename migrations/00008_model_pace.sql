-- The model's recent pace (worker/pace.go): a prediction whose webhook is late for it is
-- checked sooner than REPLICATE_WEBHOOK_CHECK_AFTER. store.ModelPace reads the last
-- predictions that ended, newest first, every few seconds from each worker process: an
-- index on their end keeps that read to a few hundred rows however large the ledger.

-- +goose Up
CREATE INDEX predictions_completed_idx ON predictions (completed_at DESC)
    WHERE completed_at IS NOT NULL AND provider_id IS NOT NULL;

-- +goose Down
DROP INDEX predictions_completed_idx;
