-- Lowering a child's protected identity (skyddad identitet) is a decision of its own: who made
-- it, from which level to which, why, and under which decision. Kept for the auditor; never
-- changed or removed by the service.
CREATE TABLE protection_changes (
    id                  uuid PRIMARY KEY,
    child_id            uuid NOT NULL REFERENCES children (id),
    from_level          text NOT NULL CHECK (from_level IN
        ('none', 'confidentiality_marking', 'protected_registration', 'fictitious_identity')),
    to_level            text NOT NULL CHECK (to_level IN
        ('none', 'confidentiality_marking', 'protected_registration', 'fictitious_identity')),
    reason              text NOT NULL CHECK (length(reason) BETWEEN 10 AND 1000),
    decision_reference  text NOT NULL CHECK (length(decision_reference) BETWEEN 1 AND 100),
    decided_by          uuid NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL,
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (from_level <> to_level)
);
CREATE INDEX protection_changes_child_idx ON protection_changes (child_id, created_at);
CREATE CONSTRAINT TRIGGER protection_changes_require_audit_event
    AFTER INSERT OR UPDATE ON protection_changes DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();
