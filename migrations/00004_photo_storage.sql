-- Photos are copied to photogen's own storage before they count: output_url is now our
-- URL, and the provider's URL (deleted by Replicate after about an hour) is kept for
-- audit. Subscribers whose stored URLs are provider URLs keep them as they are.

-- +goose Up
ALTER TABLE predictions ADD COLUMN provider_output_url text;

-- +goose Down
ALTER TABLE predictions DROP COLUMN provider_output_url;
