-- The age-out plan: one per child, with goals in seven domains, dated progress notes and
-- reviews. Every version of the plan and of each goal is kept (age_out_plan_versions,
-- age_out_goal_versions, written in the transaction of the change); notes, reviews and versions
-- are never changed or deleted. trygg_app gets SELECT,
-- INSERT, UPDATE by the default privileges of the first migration, and no DELETE.

CREATE TABLE age_out_plans (
    id                   uuid PRIMARY KEY,
    child_id             uuid NOT NULL REFERENCES children (id),
    opened_on            date NOT NULL,
    opened_by            uuid NOT NULL REFERENCES users (id),
    education_kind       text CHECK (education_kind IN ('school', 'sfi')),
    education_applied_on date,
    education_started_on date,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT age_out_plans_one_per_child UNIQUE (child_id),
    CHECK (education_started_on IS NULL OR education_applied_on IS NOT NULL),
    CHECK (education_started_on >= education_applied_on)
);
CREATE CONSTRAINT TRIGGER age_out_plans_require_audit_event
    AFTER INSERT OR UPDATE ON age_out_plans DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- Every version of a plan's own fields, as they were after each change (version 1 as opened).
CREATE TABLE age_out_plan_versions (
    id                   uuid PRIMARY KEY,
    plan_id              uuid NOT NULL REFERENCES age_out_plans (id),
    child_id             uuid NOT NULL REFERENCES children (id),
    version              integer NOT NULL CHECK (version > 0),
    opened_on            date NOT NULL,
    education_kind       text,
    education_applied_on date,
    education_started_on date,
    changed_by           uuid NOT NULL REFERENCES users (id),
    changed_at           timestamptz NOT NULL,
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (plan_id, version)
);
CREATE CONSTRAINT TRIGGER age_out_plan_versions_require_audit_event
    AFTER INSERT OR UPDATE ON age_out_plan_versions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

CREATE TABLE age_out_goals (
    id                   uuid PRIMARY KEY,
    plan_id              uuid NOT NULL REFERENCES age_out_plans (id),
    child_id             uuid NOT NULL REFERENCES children (id),
    domain               text NOT NULL CHECK (domain IN ('education_occupation', 'economy', 'social_network', 'leisure', 'housing', 'health', 'residence_status')),
    description          text NOT NULL CHECK (length(description) BETWEEN 3 AND 2000),
    target_date          date NOT NULL,
    responsible          text NOT NULL CHECK (responsible IN ('youth', 'secretary', 'home_staff', 'other')),
    responsible_other    text CHECK (length(responsible_other) BETWEEN 2 AND 200),
    status               text NOT NULL CHECK (status IN ('not_started', 'in_progress', 'achieved', 'dropped')),
    dropped_reason       text CHECK (length(dropped_reason) BETWEEN 3 AND 1000),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((responsible = 'other') = (responsible_other IS NOT NULL)),
    CONSTRAINT age_out_goals_dropped_reason CHECK ((status = 'dropped') = (dropped_reason IS NOT NULL))
);
CREATE INDEX age_out_goals_plan_idx ON age_out_goals (plan_id);
CREATE INDEX age_out_goals_child_idx ON age_out_goals (child_id);
CREATE CONSTRAINT TRIGGER age_out_goals_require_audit_event
    AFTER INSERT OR UPDATE ON age_out_goals DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- Every version of a goal, as it was after each change (version 1 as it was created).
CREATE TABLE age_out_goal_versions (
    id                   uuid PRIMARY KEY,
    goal_id              uuid NOT NULL REFERENCES age_out_goals (id),
    child_id             uuid NOT NULL REFERENCES children (id),
    version              integer NOT NULL CHECK (version > 0),
    domain               text NOT NULL,
    description          text NOT NULL,
    target_date          date NOT NULL,
    responsible          text NOT NULL,
    responsible_other    text,
    status               text NOT NULL,
    dropped_reason       text,
    changed_by           uuid NOT NULL REFERENCES users (id),
    changed_at           timestamptz NOT NULL,
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    UNIQUE (goal_id, version)
);
CREATE CONSTRAINT TRIGGER age_out_goal_versions_require_audit_event
    AFTER INSERT OR UPDATE ON age_out_goal_versions DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

CREATE TABLE age_out_progress_notes (
    id                   uuid PRIMARY KEY,
    goal_id              uuid NOT NULL REFERENCES age_out_goals (id),
    child_id             uuid NOT NULL REFERENCES children (id),
    noted_on             date NOT NULL,
    note                 text NOT NULL CHECK (length(note) BETWEEN 1 AND 4000),
    written_by           uuid NOT NULL REFERENCES users (id),
    created_at           timestamptz NOT NULL,
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX age_out_progress_notes_goal_idx ON age_out_progress_notes (goal_id);
CREATE CONSTRAINT TRIGGER age_out_progress_notes_require_audit_event
    AFTER INSERT OR UPDATE ON age_out_progress_notes DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- A review: when, who took part, the youth's own view, and each goal's status at that moment.
CREATE TABLE age_out_reviews (
    id                   uuid PRIMARY KEY,
    plan_id              uuid NOT NULL REFERENCES age_out_plans (id),
    child_id             uuid NOT NULL REFERENCES children (id),
    held_on              date NOT NULL,
    participants         text[] NOT NULL CHECK (cardinality(participants) BETWEEN 1 AND 20),
    youth_view           text NOT NULL CHECK (length(youth_view) BETWEEN 1 AND 10000),
    goal_statuses        jsonb NOT NULL CHECK (jsonb_typeof(goal_statuses) = 'array'),
    recorded_by          uuid NOT NULL REFERENCES users (id),
    created_at           timestamptz NOT NULL,
    last_audit_event_id  uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX age_out_reviews_plan_idx ON age_out_reviews (plan_id, held_on);
CREATE CONSTRAINT TRIGGER age_out_reviews_require_audit_event
    AFTER INSERT OR UPDATE ON age_out_reviews DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- What was written stays as it was written.
CREATE FUNCTION age_out_records_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER age_out_plan_versions_no_update_or_delete
    BEFORE UPDATE OR DELETE ON age_out_plan_versions FOR EACH ROW EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_plan_versions_no_truncate
    BEFORE TRUNCATE ON age_out_plan_versions FOR EACH STATEMENT EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_goal_versions_no_update_or_delete
    BEFORE UPDATE OR DELETE ON age_out_goal_versions FOR EACH ROW EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_goal_versions_no_truncate
    BEFORE TRUNCATE ON age_out_goal_versions FOR EACH STATEMENT EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_progress_notes_no_update_or_delete
    BEFORE UPDATE OR DELETE ON age_out_progress_notes FOR EACH ROW EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_progress_notes_no_truncate
    BEFORE TRUNCATE ON age_out_progress_notes FOR EACH STATEMENT EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_reviews_no_update_or_delete
    BEFORE UPDATE OR DELETE ON age_out_reviews FOR EACH ROW EXECUTE FUNCTION age_out_records_are_kept();
CREATE TRIGGER age_out_reviews_no_truncate
    BEFORE TRUNCATE ON age_out_reviews FOR EACH STATEMENT EXECUTE FUNCTION age_out_records_are_kept();
