-- The audit log off the critical path. Until now every audited transaction took one lock and
-- held it to commit, so the chain's order was the commit order and no two requests committed
-- at once. Now a transaction only inserts its events (their numbers come from a sequence, with
-- no coordination) and, by the trigger below, a row each in the queue. One sequencer, in the
-- background, takes what has committed from the queue and seals it into the chain in batches:
-- it assigns gap-free positions and links each event's digest to its predecessor's hash.
--
-- The sequencer keeps no high-water mark: it seals every queued event that has committed, so an
-- event of a slow transaction that commits behind a sealed one is sealed in a later batch,
-- never skipped. The chain's order is the order of sealing, fixed once written.

-- Event numbers: the order events were written in, with gaps where a transaction rolled back.
-- Not the chain's order (that is `audit_chain.position`).
CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq;
SELECT setval('audit_events_seq_seq', coalesce((SELECT max(seq) FROM audit_events), 0) + 1, false);
ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq');
GRANT USAGE ON SEQUENCE audit_events_seq_seq TO trygg_app;

CREATE FUNCTION refuse_change_of_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The chain: one row per sealed event, in the order sealed.
CREATE TABLE audit_chain (
    position    bigint PRIMARY KEY CHECK (position > 0),
    event_seq   bigint NOT NULL UNIQUE REFERENCES audit_events (seq),
    prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
    -- link_hash(position, prev_hash, the event's content_digest)
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    -- When the event was queued and when it was sealed: the sequencer's lag, event by event.
    queued_at   timestamptz NOT NULL,
    sealed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (sealed_at >= queued_at)
);

-- The events written so far were chained in event order: their positions are their numbers,
-- and their hashes (computed over that number) carry over unchanged.
INSERT INTO audit_chain (position, event_seq, prev_hash, hash, queued_at, sealed_at)
    SELECT seq, seq, prev_hash, hash, occurred_at, occurred_at FROM audit_events ORDER BY seq;
ALTER TABLE audit_events DROP COLUMN prev_hash, DROP COLUMN hash;

CREATE TRIGGER audit_chain_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_log();
CREATE TRIGGER audit_chain_no_truncate
    BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_log();
REVOKE ALL ON audit_chain FROM trygg_app;
GRANT SELECT, INSERT ON audit_chain TO trygg_app;

-- Events written but not yet sealed. Filled by the database, never by the service: every
-- inserted event is queued in its own transaction, so a crash before sealing loses nothing
-- (the queue commits with the event) and an event cannot bypass the chain. The sequencer
-- deletes what it seals in the transaction that seals it, so nothing is sealed twice.
CREATE TABLE audit_queue (
    event_seq   bigint PRIMARY KEY,
    queued_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
REVOKE ALL ON audit_queue FROM trygg_app;
GRANT SELECT, DELETE ON audit_queue TO trygg_app;

CREATE FUNCTION queue_audit_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO audit_queue (event_seq) SELECT seq FROM added;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION queue_audit_events() FROM PUBLIC;

CREATE TRIGGER audit_events_queue
    AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION queue_audit_events();
