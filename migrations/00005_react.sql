-- Generation that reacts instead of waiting (docs/architecture.md, "The job: short
-- attempts"). A prediction's outcome can now arrive from a Replicate webhook, a synchronous
-- create answer or a fallback check, and is recorded at once; keeping its image in our
-- bucket happens after, in the worker. So the ledger gains:
--   status 'finished': succeeded at the provider, its output not yet kept (stored);
--                      provider_output_url holds where to fetch it from;
--   checked_at:        when we last heard of the prediction, for fallback checks of
--                      predictions whose webhook never came;
-- subscribers gain wake_pending, a webhook's news for a job that was running.
-- and the fleet paces its reads of the provider (GET and list calls) with the same
-- sliding window as its creations: one function, take_provider_slots, for both.

-- +goose Up
ALTER TABLE predictions DROP CONSTRAINT predictions_status_check;
ALTER TABLE predictions ADD CONSTRAINT predictions_status_check
    CHECK (status IN ('creating', 'abandoned', 'starting', 'processing', 'finished', 'succeeded',
                      'failed', 'canceled', 'aborted'));
ALTER TABLE predictions ADD CONSTRAINT predictions_finished_has_provider_output
    CHECK (status <> 'finished' OR provider_output_url IS NOT NULL);
ALTER TABLE predictions ADD COLUMN checked_at timestamptz;
-- Set by a webhook that found the subscriber's job running (about to sleep, perhaps):
-- the worker wakes the job again once River has put it to sleep.
ALTER TABLE subscribers ADD COLUMN wake_pending boolean NOT NULL DEFAULT false;
UPDATE predictions SET checked_at = updated_at WHERE status IN ('starting', 'processing');
-- Which predictions are still in flight, or finished and waiting to be kept.
CREATE INDEX predictions_open_idx ON predictions (subscriber_id, checked_at)
    WHERE status IN ('creating', 'starting', 'processing', 'finished');

CREATE TABLE provider_slots (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket   text        NOT NULL CHECK (bucket IN ('create', 'read')),
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX provider_slots_bucket_taken_at_idx ON provider_slots (bucket, taken_at);

-- +goose StatementBegin
-- take_provider_slots grants up to p_want calls to the provider under a fleet-wide limit
-- of p_limit per p_window for one bucket ('create': prediction creations; 'read': GET
-- and list calls), in one statement, serialised per bucket by an advisory lock. It
-- returns how many were granted and, when fewer than wanted, how long until the next
-- frees up.
CREATE OR REPLACE FUNCTION take_provider_slots(p_bucket text, p_want int, p_limit int, p_window interval,
                                               OUT granted int, OUT wait interval)
LANGUAGE plpgsql AS $$
DECLARE
    v_now    timestamptz := clock_timestamp();
    v_count  int;
    v_oldest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('photogen provider slots ' || p_bucket, 0));
    DELETE FROM provider_slots WHERE bucket = p_bucket AND taken_at <= v_now - p_window;
    SELECT count(*), min(taken_at) INTO v_count, v_oldest FROM provider_slots WHERE bucket = p_bucket;
    granted := greatest(0, least(p_want, p_limit - v_count));
    INSERT INTO provider_slots (bucket, taken_at) SELECT p_bucket, v_now FROM generate_series(1, granted);
    wait := interval '0';
    IF granted < p_want THEN
        wait := coalesce(v_oldest, v_now) + p_window - v_now;
    END IF;
END;
$$;

-- take_prediction_slots keeps its name and contract (migration 00003) and now counts
-- in the 'create' bucket of take_provider_slots: one implementation for both limits.
CREATE OR REPLACE FUNCTION take_prediction_slots(p_want int, p_limit int, p_window interval,
                                                 OUT granted int, OUT wait interval)
LANGUAGE sql AS $$
    SELECT granted, wait FROM take_provider_slots('create', p_want, p_limit, p_window)
$$;
-- +goose StatementEnd
DROP TABLE prediction_slots;

-- +goose Down
CREATE TABLE prediction_slots (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX prediction_slots_taken_at_idx ON prediction_slots (taken_at);
INSERT INTO prediction_slots (taken_at) SELECT taken_at FROM provider_slots WHERE bucket = 'create';
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION take_prediction_slots(p_want int, p_limit int, p_window interval,
                                                 OUT granted int, OUT wait interval)
LANGUAGE plpgsql AS $$
DECLARE
    v_now    timestamptz := clock_timestamp();
    v_count  int;
    v_oldest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(8070450532247928832); -- 'photogen prediction slots'
    DELETE FROM prediction_slots WHERE taken_at <= v_now - p_window;
    SELECT count(*), min(taken_at) INTO v_count, v_oldest FROM prediction_slots;
    granted := greatest(0, least(p_want, p_limit - v_count));
    INSERT INTO prediction_slots (taken_at) SELECT v_now FROM generate_series(1, granted);
    wait := interval '0';
    IF granted < p_want THEN
        wait := coalesce(v_oldest, v_now) + p_window - v_now;
    END IF;
END;
$$;
-- +goose StatementEnd
DROP FUNCTION take_provider_slots(text, int, int, interval);
DROP TABLE provider_slots;
DROP INDEX predictions_open_idx;
ALTER TABLE subscribers DROP COLUMN wake_pending;
ALTER TABLE predictions DROP COLUMN checked_at;
-- A finished prediction goes back to in flight: the older worker polls it again.
UPDATE predictions SET status = 'processing' WHERE status = 'finished';
ALTER TABLE predictions DROP CONSTRAINT predictions_finished_has_provider_output;
ALTER TABLE predictions DROP CONSTRAINT predictions_status_check;
ALTER TABLE predictions ADD CONSTRAINT predictions_status_check
    CHECK (status IN ('creating', 'abandoned', 'starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'));
