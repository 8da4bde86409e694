-- Live updates (GET /api/blueprint/events, docs/architecture.md "Live updates"). Every
-- change a subscriber's page shows (a photo appended, the state or its reason changed)
-- rings a doorbell on the channel photogen_subscriber, from the transaction that makes
-- it, so PostgreSQL delivers it at commit and never for a rollback. Each api process
-- LISTENs on one connection and wakes the streams of that subscriber; a stream then reads
-- the row itself, so the payload only says whom to read and helps measure:
--   '<subscriber id> <photos so far> <clock_timestamp in µs since the Unix epoch>'
-- A trigger, not a call in each statement, so that no writer (the append, pay, refund,
-- fail, retry, an operator's UPDATE) can forget it.

-- +goose Up
-- +goose StatementBegin
-- notify_subscriber_changed rings photogen_subscriber for the row that changed. The
-- timestamp is the trigger's clock, taken inside the transaction: commit follows within
-- the statement's remaining work, so it is a lower bound on the commit's time.
CREATE OR REPLACE FUNCTION notify_subscriber_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('photogen_subscriber',
        NEW.id::text || ' ' || jsonb_array_length(NEW.photo_urls)::text || ' ' ||
        (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
-- Only what a stream shows: wake_pending, updated_at and the payment's columns change
-- often and ring nothing.
CREATE TRIGGER subscribers_notify_changed
    AFTER UPDATE OF photo_urls, generation_status, generation_error ON subscribers
    FOR EACH ROW
    WHEN (OLD.photo_urls IS DISTINCT FROM NEW.photo_urls
          OR OLD.generation_status IS DISTINCT FROM NEW.generation_status
          OR OLD.generation_error IS DISTINCT FROM NEW.generation_error)
    EXECUTE FUNCTION notify_subscriber_changed();

-- +goose Down
DROP TRIGGER subscribers_notify_changed ON subscribers;
DROP FUNCTION notify_subscriber_changed();
