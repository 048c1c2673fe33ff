-- Assignments grant access to children: each new one names the audit event of the change that
-- made it, written in the same transaction (rows from before this migration have none).
ALTER TABLE child_secretaries
    ADD COLUMN last_audit_event_id uuid REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE facility_staff
    ADD COLUMN last_audit_event_id uuid REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED;

CREATE CONSTRAINT TRIGGER child_secretaries_require_audit_event
    AFTER INSERT OR UPDATE ON child_secretaries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();
CREATE CONSTRAINT TRIGGER facility_staff_require_audit_event
    AFTER INSERT OR UPDATE ON facility_staff DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();
