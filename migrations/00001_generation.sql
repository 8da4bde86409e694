-- Subscribers, the prediction ledger and the Stripe webhook inbox: everything a paid
-- checkout needs to become exactly target_photos photos. The invariants live here, not in
-- the code: whatever a worker, an operator or a bug does, the database refuses more photos
-- than the target, a completed generation without all of them, and a Stripe event applied twice.

-- +goose Up
CREATE TABLE subscribers (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text        NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    -- SHA-256 of the 32-byte random access token; the token itself is never stored.
    access_token_hash bytea       NOT NULL UNIQUE CHECK (length(access_token_hash) = 32),
    strategy          jsonb       NOT NULL CHECK (jsonb_typeof(strategy) = 'object'
                                                  AND jsonb_typeof(strategy -> 'prompt') = 'string'),
    target_photos     int         NOT NULL DEFAULT 30 CHECK (target_photos BETWEEN 1 AND 1000),
    photo_urls        jsonb       NOT NULL DEFAULT '[]'::jsonb,
    -- awaiting_payment -> queued -> generating -> completed | failed; failed -> queued on retry.
    generation_status text        NOT NULL DEFAULT 'awaiting_payment'
                                  CHECK (generation_status IN ('awaiting_payment', 'queued', 'generating',
                                                               'completed', 'failed')),
    generation_error  text,
    paid_at           timestamptz,
    generated_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),

    -- The cap: never more photos than the target, whatever the code does. CASE keeps
    -- jsonb_array_length from raising on a non-array before the type check refuses it.
    CONSTRAINT subscribers_photo_urls_capped CHECK (
        CASE WHEN jsonb_typeof(photo_urls) = 'array'
             THEN jsonb_array_length(photo_urls) <= target_photos
             ELSE false END),
    -- Completed means exactly the target, and only completed has generated_at.
    CONSTRAINT subscribers_generated_complete CHECK (
        (generated_at IS NOT NULL) = (generation_status = 'completed')
        AND (generated_at IS NULL OR jsonb_array_length(photo_urls) = target_photos)),
    CONSTRAINT subscribers_paid_before_generation CHECK (
        (paid_at IS NULL) = (generation_status = 'awaiting_payment'))
);

-- Emails are unique whatever their case.
CREATE UNIQUE INDEX subscribers_email_key ON subscribers (lower(email));

-- The ledger: one row per prediction created at the provider, written as soon as the
-- create call returns. Spend is the number of rows.
CREATE TABLE predictions (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscriber_id uuid        NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    provider_id   text        NOT NULL UNIQUE,
    status        text        NOT NULL CHECK (status IN ('starting', 'processing', 'succeeded',
                                                         'failed', 'canceled', 'aborted')),
    output_url    text,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    appended_at   timestamptz,

    CONSTRAINT predictions_succeeded_has_output CHECK (status <> 'succeeded' OR output_url IS NOT NULL),
    CONSTRAINT predictions_appended_succeeded CHECK (appended_at IS NULL OR status = 'succeeded')
);

CREATE INDEX predictions_subscriber_idx ON predictions (subscriber_id, id);

-- The Stripe webhook inbox: every event id we accepted, written in the transaction
-- that applied its effects, so a redelivery finds it and changes nothing.
CREATE TABLE stripe_events (
    event_id      text        PRIMARY KEY,
    event_type    text        NOT NULL,
    -- applied: it marked a subscriber paid; unmatched: no subscriber found (kept for
    -- operators, see docs/operations.md); ignored: a type or payment status we do not act on.
    outcome       text        NOT NULL CHECK (outcome IN ('applied', 'unmatched', 'ignored')),
    subscriber_id uuid        REFERENCES subscribers (id) ON DELETE SET NULL,
    payload       jsonb       NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stripe_events_unmatched_idx ON stripe_events (received_at) WHERE outcome = 'unmatched';

-- +goose Down
DROP TABLE stripe_events;
DROP TABLE predictions;
DROP TABLE subscribers;
