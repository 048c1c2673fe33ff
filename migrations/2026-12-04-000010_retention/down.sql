REVOKE DELETE ON visits, contact_schedules, emergency_accesses, protection_changes,
                 age_assessments, child_secretaries, age_out_plans, age_out_plan_versions,
                 age_out_goals, age_out_goal_versions, age_out_progress_notes, age_out_reviews
    FROM trygg_retention;
REVOKE UPDATE ON audit_events FROM trygg_retention;

CREATE OR REPLACE FUNCTION audit_events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION age_out_records_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE OR REPLACE FUNCTION visits_are_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'visits are never changed or deleted; record a correction instead'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

DROP FUNCTION erasing(uuid);
DROP TABLE retention_erasures;
DROP FUNCTION retention_erasure_is_audited();
REVOKE trygg_app FROM trygg_retention;
