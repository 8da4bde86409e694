-- Usage counters (resumes and reviews per calendar month, UTC) that concurrent requests
-- cannot race, with the seed's function names and contract kept:
--   increment_resume_counter(p_user_id, p_limit) / increment_review_counter(...)
--   return the new count, or -1 when the limit is reached; the count resets when a new
--   month has begun. Both are thin wrappers of consume_usage, which the API calls.
--
-- Unlike the seed's SELECT ... FOR UPDATE, a refusal takes no lock and writes nothing:
-- a plain read answers "no" when the row is at the limit, and the increment is one
-- UPDATE whose WHERE re-checks the limit on the latest row version, so concurrent
-- increments serialise on the row lock only when they will write.

-- +goose Up
CREATE TABLE usage_counters (
    user_id      uuid        NOT NULL,
    counter      text        NOT NULL CHECK (counter ~ '^[a-z][a-z0-9_]{0,31}$'),
    used         int         NOT NULL CHECK (used >= 0),
    -- first instant (UTC) of the month `used` counts
    period_start timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, counter)
);

-- Idempotency-Key answers, stored in the transaction of the increment they describe.
CREATE TABLE usage_idempotency_keys (
    user_id    uuid        NOT NULL,
    key        text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    counter    text        NOT NULL,
    status     int         NOT NULL,
    response   text        NOT NULL, -- the answer's exact bytes, replayed as they were
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX usage_idempotency_keys_created_idx ON usage_idempotency_keys (created_at);

-- +goose StatementBegin
-- consume_usage counts one use of p_counter for p_user_id if that keeps the month's
-- count within p_limit. It returns whether it was accepted, the count after the call
-- (the current count when refused) and the start of the month counted. p_now is the
-- current time, an argument so that month boundaries can be tested.
CREATE OR REPLACE FUNCTION consume_usage(p_user_id uuid, p_counter text, p_limit int,
                                         p_now timestamptz DEFAULT now(),
                                         OUT accepted boolean, OUT used int, OUT period_start timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_period timestamptz := date_trunc('month', p_now AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    v_used   int;
    v_start  timestamptz;
BEGIN
    IF p_limit IS NULL OR p_limit < 0 THEN
        RAISE EXCEPTION 'consume_usage: limit must be >= 0, got %', p_limit USING ERRCODE = '22023';
    END IF;
    period_start := v_period;

    -- 1. Refuse cheaply: a plain read, no lock, nothing written.
    SELECT c.used, c.period_start INTO v_used, v_start
    FROM usage_counters c WHERE c.user_id = p_user_id AND c.counter = p_counter;
    IF FOUND AND v_start >= v_period AND v_used >= p_limit THEN
        accepted := false; used := v_used; RETURN;
    END IF;
    IF p_limit = 0 THEN
        accepted := false; used := CASE WHEN FOUND AND v_start >= v_period THEN v_used ELSE 0 END; RETURN;
    END IF;

    FOR attempt IN 1..2 LOOP
        -- 2. Increment, or reset for a new month, only while under the limit. Under
        --    concurrency the WHERE is re-evaluated on the row version that won.
        UPDATE usage_counters c
        SET used = CASE WHEN c.period_start < v_period THEN 1 ELSE c.used + 1 END,
            period_start = greatest(c.period_start, v_period),
            updated_at = now()
        WHERE c.user_id = p_user_id AND c.counter = p_counter
          AND (c.period_start < v_period OR (c.period_start = v_period AND c.used < p_limit))
        RETURNING c.used INTO v_used;
        IF FOUND THEN
            accepted := true; used := v_used; RETURN;
        END IF;
        -- 3. First use: insert. A concurrent first use makes this a no-op; then the
        --    UPDATE above is tried once more against the row it inserted.
        INSERT INTO usage_counters (user_id, counter, used, period_start)
        VALUES (p_user_id, p_counter, 1, v_period)
        ON CONFLICT (user_id, counter) DO NOTHING;
        IF FOUND THEN
            accepted := true; used := 1; RETURN;
        END IF;
    END LOOP;

    -- The row exists and is at the limit (or counts a later month than p_now).
    SELECT CASE WHEN c.period_start >= v_period THEN c.used ELSE 0 END INTO used
    FROM usage_counters c WHERE c.user_id = p_user_id AND c.counter = p_counter;
    accepted := false;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- increment_resume_counter is the seed's contract: the new count, or -1 at the limit.
CREATE OR REPLACE FUNCTION increment_resume_counter(p_user_id uuid, p_limit int, p_now timestamptz DEFAULT now())
RETURNS int LANGUAGE sql AS $$
    SELECT CASE WHEN accepted THEN used ELSE -1 END FROM consume_usage(p_user_id, 'resumes', p_limit, p_now);
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- increment_review_counter is the seed's contract for AI reviews: the new count, or -1.
CREATE OR REPLACE FUNCTION increment_review_counter(p_user_id uuid, p_limit int, p_now timestamptz DEFAULT now())
RETURNS int LANGUAGE sql AS $$
    SELECT CASE WHEN accepted THEN used ELSE -1 END FROM consume_usage(p_user_id, 'reviews', p_limit, p_now);
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION increment_review_counter(uuid, int, timestamptz);
DROP FUNCTION increment_resume_counter(uuid, int, timestamptz);
DROP FUNCTION consume_usage(uuid, text, int, timestamptz);
DROP TABLE usage_idempotency_keys;
DROP TABLE usage_counters;
