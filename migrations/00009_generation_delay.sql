-- A generation delayed by an outage (docs/reliability.md "Outages of the provider and the
-- photo store"): when an attempt ends because the provider or the photo store is down, the
-- worker records since when and why, snoozes the job for a few seconds and tries again;
-- the status endpoint and the page show it, and the first call that works again clears
-- it. A generation delayed longer than OUTAGE_LIMIT fails. Adding two nullable columns
-- rewrites nothing, and a version without them still reads and writes the table.

-- +goose Up
ALTER TABLE subscribers
    ADD COLUMN delayed_since timestamptz,
    ADD COLUMN delay_reason  text
        CHECK (delay_reason IN ('provider_unavailable', 'photo_store_unavailable')),
    ADD CONSTRAINT subscribers_delay_whole CHECK ((delayed_since IS NULL) = (delay_reason IS NULL));
-- photogen_generations_delayed counts them at every scrape: few rows, whatever the table.
CREATE INDEX subscribers_delayed_idx ON subscribers (delay_reason) WHERE delayed_since IS NOT NULL;

-- +goose Down
DROP INDEX subscribers_delayed_idx;
ALTER TABLE subscribers
    DROP CONSTRAINT subscribers_delay_whole,
    DROP COLUMN delay_reason,
    DROP COLUMN delayed_since;
