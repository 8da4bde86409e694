-- The status cache (docs/architecture.md "The status answer from memory"): each api
-- process keeps status answers until their subscriber's notice on photogen_subscriber, so
-- every column the status endpoint shows must ring, not only what a stream shows
-- (migration 00006's trigger: photos, state, reason). This second trigger rings, with the
-- same function, for the others: paid_at, target_photos and updated_at, which a repeated
-- payment, a refund or a retry of a generation in a state they leave as it is still move.
-- Only when 00006's trigger does not ring already, so no change rings twice; wake_pending
-- alone (the worker's news) still rings nothing.

-- +goose Up
CREATE TRIGGER subscribers_notify_status_changed
    AFTER UPDATE OF paid_at, target_photos, updated_at ON subscribers
    FOR EACH ROW
    WHEN ((OLD.paid_at IS DISTINCT FROM NEW.paid_at
           OR OLD.target_photos IS DISTINCT FROM NEW.target_photos
           OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
          AND OLD.photo_urls IS NOT DISTINCT FROM NEW.photo_urls
          AND OLD.generation_status IS NOT DISTINCT FROM NEW.generation_status
          AND OLD.generation_error IS NOT DISTINCT FROM NEW.generation_error)
    EXECUTE FUNCTION notify_subscriber_changed();

-- +goose Down
DROP TRIGGER subscribers_notify_status_changed ON subscribers;
