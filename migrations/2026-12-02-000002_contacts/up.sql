-- Contact schedules say what is due; visits record what happened. A visit is never overwritten
-- or deleted: a correction is a new row pointing at the one it corrects, and the latest counts.

CREATE TABLE contact_schedules (
    id                   uuid PRIMARY KEY,
    child_id             uuid NOT NULL REFERENCES children (id),
    kind                 text NOT NULL CHECK (kind IN ('secretary_visit', 'staff_contact')),
    responsible          text NOT NULL CHECK (responsible IN ('secretary', 'facility_staff')),
    -- The named secretary who keeps it, when a secretary does.
    secretary_id         uuid REFERENCES users (id),
    -- The placement whose home's staff keep it, when they do; a move hands it to the next one.
    placement_id         uuid REFERENCES placements (id),
    recurrence           text NOT NULL CHECK (recurrence ~ '^(every [0-9]{1,3} days|[0-9]{1,2} per (week|month|quarter))$'),
    tolerance_days       integer NOT NULL CHECK (tolerance_days BETWEEN 0 AND 90),
    private_conversation boolean NOT NULL DEFAULT false,
    start_date           date NOT NULL,
    end_date             date CHECK (end_date >= start_date),
    change_reason        text CHECK (length(change_reason) BETWEEN 3 AND 1000),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((responsible = 'secretary') = (secretary_id IS NOT NULL)),
    CHECK ((responsible = 'facility_staff') = (placement_id IS NOT NULL))
);
CREATE INDEX contact_schedules_child_idx ON contact_schedules (child_id);
CREATE INDEX contact_schedules_secretary_idx ON contact_schedules (secretary_id) WHERE secretary_id IS NOT NULL;
CREATE INDEX contact_schedules_placement_idx ON contact_schedules (placement_id) WHERE placement_id IS NOT NULL;
CREATE CONSTRAINT TRIGGER contact_schedules_require_audit_event
    AFTER INSERT OR UPDATE ON contact_schedules DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

CREATE TABLE visits (
    id                   uuid PRIMARY KEY,
    child_id             uuid NOT NULL REFERENCES children (id),
    schedule_id          uuid REFERENCES contact_schedules (id),
    performed_by         uuid NOT NULL REFERENCES users (id),
    occurred_at          timestamptz NOT NULL,
    mode                 text NOT NULL CHECK (mode IN ('home_visit', 'meeting_elsewhere', 'phone', 'video')),
    at_placement         boolean NOT NULL,
    completed            boolean NOT NULL,
    not_completed_reason text CHECK (length(not_completed_reason) BETWEEN 3 AND 1000),
    spoke_alone          boolean NOT NULL,
    planned              boolean NOT NULL,
    interpreter_used     boolean NOT NULL,
    notes                text CHECK (length(notes) <= 10000),
    corrects_id          uuid REFERENCES visits (id),
    correction_reason    text CHECK (length(correction_reason) BETWEEN 3 AND 1000),
    created_at           timestamptz NOT NULL,
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (completed OR not_completed_reason IS NOT NULL),
    CHECK ((corrects_id IS NULL) = (correction_reason IS NULL))
);
CREATE INDEX visits_child_idx ON visits (child_id, occurred_at);
CREATE INDEX visits_schedule_idx ON visits (schedule_id, occurred_at) WHERE schedule_id IS NOT NULL;
-- One correction per visit: a second correction corrects the correction.
CREATE UNIQUE INDEX visits_one_correction_idx ON visits (corrects_id) WHERE corrects_id IS NOT NULL;
CREATE CONSTRAINT TRIGGER visits_require_audit_event
    AFTER INSERT OR UPDATE ON visits DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- What was recorded stays as it was recorded.
CREATE FUNCTION visits_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'visits are never changed or deleted; record a correction instead'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER visits_no_update_or_delete
    BEFORE UPDATE OR DELETE ON visits FOR EACH ROW EXECUTE FUNCTION visits_are_kept();
CREATE TRIGGER visits_no_truncate
    BEFORE TRUNCATE ON visits FOR EACH STATEMENT EXECUTE FUNCTION visits_are_kept();
