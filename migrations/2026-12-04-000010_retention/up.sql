-- Retention (gallring): `trygg retention run` removes the personal data of a case once the
-- rules say so, keeping placements. It works as its own role, `trygg_retention`: the service's
-- role `trygg_app` still has no DELETE on case records and cannot touch the audit log.
--
-- Every removal is bound to an erasure: a row in `retention_erasures` for that child, written in
-- the same transaction after the `retention` audit event about her. The "kept" triggers of
-- visits and of the age-out plan's history, and the append-only trigger of the audit log, let
-- exactly that through: a DELETE of the erased child's rows, and the one UPDATE a tombstone is
-- (an old event of hers stripped of every detail, its digest unchanged). Nothing
-- else: not for the service, not for the retention role, not for the owner.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trygg_retention') THEN
        CREATE ROLE trygg_retention NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'trygg_retention', 'MEMBER') THEN
        EXECUTE format('GRANT trygg_retention TO %I', current_user);
    END IF;
END
$$;
-- What the service may do (read, audit), and on top of it only what retention needs.
GRANT trygg_app TO trygg_retention;

-- One row per pass over a child: the first removes her data; a later one only turns events of
-- hers that have since grown old enough into tombstones.
CREATE TABLE retention_erasures (
    audit_event_id  uuid PRIMARY KEY REFERENCES audit_events (id),
    child_id        uuid NOT NULL REFERENCES children (id),
    erased_at       timestamptz NOT NULL,
    -- The rule that made her due, for the record: the day her last entry was made and the
    -- first day the rules allowed removal.
    last_entry_on   date NOT NULL,
    due_from        date NOT NULL CHECK (due_from > last_entry_on),
    txid            bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX retention_erasures_child_idx ON retention_erasures (child_id, txid);
REVOKE ALL ON retention_erasures FROM trygg_app;
GRANT SELECT ON retention_erasures TO trygg_app;
GRANT SELECT, INSERT ON retention_erasures TO trygg_retention;

-- An erasure names the `retention` event about the child, written before it in its own
-- transaction; it is never changed or removed.
CREATE FUNCTION retention_erasure_is_audited() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'retention_erasures are never changed or deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.txid <> txid_current() OR NOT EXISTS (
        SELECT 1 FROM audit_events
        WHERE id = NEW.audit_event_id AND txid = txid_current()
          AND action = 'retention' AND child_id = NEW.child_id
    ) THEN
        RAISE EXCEPTION 'an erasure without its retention event in the same transaction'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER retention_erasures_audited
    BEFORE INSERT OR UPDATE OR DELETE ON retention_erasures
    FOR EACH ROW EXECUTE FUNCTION retention_erasure_is_audited();
CREATE TRIGGER retention_erasures_no_truncate
    BEFORE TRUNCATE ON retention_erasures
    FOR EACH STATEMENT EXECUTE FUNCTION retention_erasure_is_audited();

-- Whether this transaction erases `child`.
CREATE FUNCTION erasing(child uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM retention_erasures WHERE child_id = child AND txid = txid_current()
    )
$$;

-- Visits and the age-out plan's history are still never changed; they are deleted only with
-- the erasure of their child.
CREATE OR REPLACE FUNCTION visits_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND erasing(OLD.child_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'visits are never changed or deleted; record a correction instead'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE OR REPLACE FUNCTION age_out_records_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND erasing(OLD.child_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% are never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

-- The audit log stays append-only but for one change: the tombstone of an erased child's event
-- older than the log's own retention period (verify's RETENTION: 5 × 365 + 2 days). Identity,
-- time, kind, outcome and digest stay (the links are in audit_chain, which stays append-only);
-- every optional detail goes. Verify accepts it only when a checkpoint signed before that
-- period vouches for the event, which the retention run checks before it asks.
CREATE OR REPLACE FUNCTION audit_events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NOT OLD.details_removed AND NEW.details_removed
       AND OLD.child_id IS NOT NULL AND erasing(OLD.child_id)
       AND OLD.occurred_at < now() - interval '1827 days'
       AND NEW.seq = OLD.seq AND NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at
       AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome
       AND NEW.entity_type = OLD.entity_type AND NEW.txid = OLD.txid
       AND NEW.content_digest = OLD.content_digest
       AND NEW.actor_type = 'system' AND NEW.actor_id IS NULL AND NEW.actor_role IS NULL
       AND NEW.actor_unit_id IS NULL AND NEW.entity_id IS NULL AND NEW.child_id IS NULL
       AND NEW.child_unit_id IS NULL AND NOT NEW.child_protected
       AND NEW.request_id IS NULL AND NEW.client_addr IS NULL AND NEW.purpose IS NULL
       AND NEW.changed_fields = '{}'
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

GRANT UPDATE (actor_type, actor_id, actor_role, actor_unit_id, entity_id, child_id,
              child_unit_id, child_protected, request_id, client_addr, purpose, changed_fields,
              details_removed)
    ON audit_events TO trygg_retention;
GRANT DELETE ON visits, contact_schedules, emergency_accesses, protection_changes,
                age_assessments, child_secretaries, age_out_plans, age_out_plan_versions,
                age_out_goals, age_out_goal_versions, age_out_progress_notes, age_out_reviews
    TO trygg_retention;
