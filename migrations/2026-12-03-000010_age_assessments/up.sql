-- A revised date of birth (an assessed age re-assessed, or a true date learned) is a decision of
-- its own: from which date to which, why, under which decision, and who made it. Kept; never
-- changed or removed by the service.
CREATE TABLE age_assessments (
    id                    uuid PRIMARY KEY,
    child_id              uuid NOT NULL REFERENCES children (id),
    from_date_of_birth    date NOT NULL,
    to_date_of_birth      date NOT NULL,
    from_assessed         boolean NOT NULL,
    to_assessed           boolean NOT NULL,
    reason                text NOT NULL CHECK (length(reason) BETWEEN 10 AND 1000),
    decision_reference    text NOT NULL CHECK (length(decision_reference) BETWEEN 1 AND 100),
    decided_by            uuid NOT NULL REFERENCES users (id),
    created_at            timestamptz NOT NULL,
    last_audit_event_id   uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (from_date_of_birth <> to_date_of_birth OR from_assessed <> to_assessed)
);
CREATE INDEX age_assessments_child_idx ON age_assessments (child_id, created_at);
CREATE CONSTRAINT TRIGGER age_assessments_require_audit_event
    AFTER INSERT OR UPDATE ON age_assessments DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();
