-- Refunds stop a generation (status 'refunded'), found through the checkout's payment
-- intent; a fleet-wide limit on prediction creation, shared by every worker process
-- through PostgreSQL; and creation intents in the ledger, so that a prediction whose
-- create answer was lost (crash, timeout, 5xx) is found again instead of paid twice.

-- +goose Up
ALTER TABLE subscribers DROP CONSTRAINT subscribers_generation_status_check;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_generation_status_check
    CHECK (generation_status IN ('awaiting_payment', 'queued', 'generating', 'completed', 'failed', 'refunded'));
-- The payment intent of the checkout that paid, to match a later charge.refunded.
ALTER TABLE subscribers ADD COLUMN stripe_payment_intent text;
CREATE INDEX subscribers_payment_intent_idx ON subscribers (stripe_payment_intent)
    WHERE stripe_payment_intent IS NOT NULL;

ALTER TABLE stripe_events DROP CONSTRAINT stripe_events_outcome_check;
ALTER TABLE stripe_events ADD CONSTRAINT stripe_events_outcome_check
    CHECK (outcome IN ('applied', 'unmatched', 'ignored', 'refunded'));

-- A ledger row is now written before the create call, as an intent ('creating', with the
-- random seed put in the prediction's input), and completed with the provider's id when
-- the call returns. An intent whose answer never came is matched later through the
-- provider's list of predictions by that seed; one proven never created is 'abandoned'.
-- Spend is the rows with a provider id.
ALTER TABLE predictions ALTER COLUMN provider_id DROP NOT NULL;
ALTER TABLE predictions ADD COLUMN seed bigint;
ALTER TABLE predictions DROP CONSTRAINT predictions_status_check;
ALTER TABLE predictions ADD CONSTRAINT predictions_status_check
    CHECK (status IN ('creating', 'abandoned', 'starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'));
ALTER TABLE predictions ADD CONSTRAINT predictions_intent_has_no_id
    CHECK ((provider_id IS NULL) = (status IN ('creating', 'abandoned')));

-- One row per prediction creation allowed in the last window, whichever process took it.
CREATE TABLE prediction_slots (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX prediction_slots_taken_at_idx ON prediction_slots (taken_at);

-- +goose StatementBegin
-- take_prediction_slots grants up to p_want prediction creations, keeping the grants of
-- every worker within p_limit in the sliding window p_window. It returns how many it
-- granted and, when fewer than asked, how long until the oldest grant leaves the window.
-- A transaction-scoped advisory lock serialises the count and the inserts; it is held
-- for a few statements only.
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

-- +goose Down
DROP FUNCTION take_prediction_slots(int, int, interval);
DROP TABLE prediction_slots;
DELETE FROM predictions WHERE provider_id IS NULL;
ALTER TABLE predictions DROP CONSTRAINT predictions_intent_has_no_id;
ALTER TABLE predictions DROP CONSTRAINT predictions_status_check;
ALTER TABLE predictions ADD CONSTRAINT predictions_status_check
    CHECK (status IN ('starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'));
ALTER TABLE predictions DROP COLUMN seed;
ALTER TABLE predictions ALTER COLUMN provider_id SET NOT NULL;
ALTER TABLE stripe_events DROP CONSTRAINT stripe_events_outcome_check;
ALTER TABLE stripe_events ADD CONSTRAINT stripe_events_outcome_check
    CHECK (outcome IN ('applied', 'unmatched', 'ignored'));
DROP INDEX subscribers_payment_intent_idx;
ALTER TABLE subscribers DROP COLUMN stripe_payment_intent;
ALTER TABLE subscribers DROP CONSTRAINT subscribers_generation_status_check;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_generation_status_check
    CHECK (generation_status IN ('awaiting_payment', 'queued', 'generating', 'completed', 'failed'));
