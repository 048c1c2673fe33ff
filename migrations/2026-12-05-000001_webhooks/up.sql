-- Webhooks: a service account's endpoints, and what was sent to them.
--
-- The outbox is the sealed audit chain itself: every change commits with its audit event, and
-- the dispatcher turns the chain's positions into deliveries, moving each subscription's
-- `position` in the same transaction as the deliveries it writes. So no committed change is
-- missed, none is queued twice (one delivery per subscription and position), and a rolled-back
-- change, which never reaches the chain, is never sent.

CREATE TABLE webhook_subscriptions (
    id                     uuid PRIMARY KEY,
    service_account_id     uuid NOT NULL REFERENCES service_accounts (id),
    url                    text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    entity_types           text[] NOT NULL CHECK (cardinality(entity_types) > 0),
    -- AES-GCM under the data key, bound to the subscription's id (auth::secret_box).
    secret_sealed          text NOT NULL,
    -- After a rotation the old secret also signs until `previous_secret_until`.
    previous_secret_sealed text,
    previous_secret_until  timestamptz,
    active                 boolean NOT NULL DEFAULT true,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    version                integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id    uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((previous_secret_sealed IS NULL) = (previous_secret_until IS NULL))
);
CREATE INDEX webhook_subscriptions_of_account ON webhook_subscriptions (service_account_id, id);
CREATE CONSTRAINT TRIGGER webhook_subscriptions_require_audit_event
    AFTER INSERT OR UPDATE ON webhook_subscriptions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- The dispatcher's own state of a subscription, apart from what its owner configures (and
-- audits): how far it has read the chain, and whether repeated failure disabled it.
CREATE TABLE webhook_progress (
    subscription_id      uuid PRIMARY KEY REFERENCES webhook_subscriptions (id),
    position             bigint NOT NULL CHECK (position >= 0),
    failed_in_a_row      integer NOT NULL DEFAULT 0 CHECK (failed_in_a_row >= 0),
    disabled_at          timestamptz
);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id),
    position         bigint NOT NULL REFERENCES audit_chain (position),
    -- The exact bytes signed and sent, the same on every attempt.
    body             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    -- Attempts since it was queued or last redelivered (the back-off counts these).
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When it may next be tried; while an attempt runs, the end of its lease.
    next_attempt_at  timestamptz NOT NULL,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL,
    UNIQUE (subscription_id, position),
    CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of_subscription ON webhook_deliveries (subscription_id, position DESC);

-- The delivery log: one row an attempt, never changed.
CREATE TABLE webhook_attempts (
    delivery_id  uuid NOT NULL REFERENCES webhook_deliveries (id),
    attempt      integer NOT NULL CHECK (attempt > 0),
    started_at   timestamptz NOT NULL,
    duration_ms  integer NOT NULL CHECK (duration_ms >= 0),
    -- The receiver's HTTP status, when it answered.
    status       integer CHECK (status BETWEEN 100 AND 599),
    -- Why it failed, when it did: our words (timeout, refused address, ...), never its body.
    error        text CHECK (length(error) <= 500),
    PRIMARY KEY (delivery_id, attempt)
);
CREATE TRIGGER webhook_attempts_are_append_only
    BEFORE UPDATE OR DELETE ON webhook_attempts
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_log();
