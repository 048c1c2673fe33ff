-- The audit log: every read and write of a person's data, who, in which role, what, when, why.
-- Append-only (triggers and grants), hash-chained (tamper-evident), written in the same
-- transaction as the change it records.

CREATE TABLE audit_events (
    -- Gap-free order; assigned under the chain lock, so chain order is commit order.
    seq             bigint PRIMARY KEY CHECK (seq > 0),
    -- Known before the event is written, so a changed row can point at the event of its change.
    id              uuid NOT NULL UNIQUE,
    occurred_at     timestamptz NOT NULL,
    actor_type      text NOT NULL CHECK (actor_type IN ('user', 'service_account', 'anonymous', 'system')),
    actor_id        uuid,
    actor_role      text,
    actor_unit_id   uuid,
    action          text NOT NULL CHECK (action ~ '^[a-z_]{2,40}$'),
    outcome         text NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
    entity_type     text NOT NULL CHECK (entity_type ~ '^[a-z_]{2,40}$'),
    entity_id       uuid,
    -- The child whose data the event concerns. No foreign key: the log outlives the case.
    child_id        uuid,
    request_id      text CHECK (length(request_id) <= 64),
    client_addr     text CHECK (length(client_addr) <= 64),
    purpose         text CHECK (length(purpose) <= 1000),
    changed_fields  text[] NOT NULL DEFAULT '{}',
    -- The transaction that wrote it: data rows check that their event is from their own transaction.
    txid            bigint NOT NULL DEFAULT txid_current(),
    -- SHA-256 of the canonical content above. Kept when details are removed under a retention
    -- rule, so the chain still verifies.
    content_digest  bytea NOT NULL CHECK (length(content_digest) = 32),
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    details_removed boolean NOT NULL DEFAULT false,
    CHECK ((actor_type IN ('user', 'service_account')) = (actor_id IS NOT NULL))
);

CREATE INDEX audit_events_child_idx ON audit_events (child_id, seq) WHERE child_id IS NOT NULL;
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, seq) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);

CREATE FUNCTION audit_events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_are_append_only();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only();

-- The service may add and read events, nothing more.
REVOKE ALL ON audit_events FROM trygg_app;
GRANT SELECT, INSERT ON audit_events TO trygg_app;

-- Deferred check for tables of personal data: each written row names the audit event of its
-- change, and that event must have been written in the same transaction. A write without its
-- event cannot commit.
CREATE FUNCTION require_audit_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_events
        WHERE id = NEW.last_audit_event_id AND txid = txid_current()
    ) THEN
        RAISE EXCEPTION 'write to % without an audit event in the same transaction', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;
