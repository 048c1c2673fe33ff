-- Ending a relation is a change like any other: deleting a secretary's assignment to a child, a
-- person from a facility's staff, or a person's recovery codes needs an audit event about it,
-- written in the same transaction (before or after the delete: the check runs at commit).
--
-- "About it" means the event names what the row links: the child (as `child_id`, or as the
-- entity of a `child` event), the facility (entity of a `facility` event) or the person (entity
-- of a `user` event), as the service writes them when it reassigns a case, replaces a staff list,
-- moves or deactivates a person, or renews recovery codes.
--
-- Tables the service may delete from that hold neither personal data nor a relation to a child
-- are left alone: rule_sets (rewritten from the rules file at start) and idempotency_keys
-- (answers to retried POSTs, purged after a day).

-- Found by transaction, so the check at commit reads a handful of rows, not the whole log.
CREATE INDEX audit_events_txid_idx ON audit_events (txid);

CREATE FUNCTION require_audit_event_for_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    gone jsonb := to_jsonb(OLD);
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_events e
        WHERE e.txid = txid_current()
          AND (   (gone ? 'child_id'
                   AND (e.child_id = (gone ->> 'child_id')::uuid
                        OR (e.entity_type = 'child' AND e.entity_id = (gone ->> 'child_id')::uuid)))
               OR (gone ? 'facility_id'
                   AND e.entity_type = 'facility' AND e.entity_id = (gone ->> 'facility_id')::uuid)
               OR (gone ? 'user_id'
                   AND e.entity_type = 'user' AND e.entity_id = (gone ->> 'user_id')::uuid))
    ) THEN
        RAISE EXCEPTION 'delete from % without an audit event about it in the same transaction', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER child_secretaries_delete_requires_audit_event
    AFTER DELETE ON child_secretaries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event_for_delete();
CREATE CONSTRAINT TRIGGER facility_staff_delete_requires_audit_event
    AFTER DELETE ON facility_staff DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event_for_delete();
CREATE CONSTRAINT TRIGGER recovery_codes_delete_requires_audit_event
    AFTER DELETE ON recovery_codes DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event_for_delete();

