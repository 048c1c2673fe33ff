DROP INDEX IF EXISTS audit_events_outside_unit_idx;
DROP INDEX IF EXISTS audit_events_protected_idx;
DROP INDEX IF EXISTS audit_events_actor_unit_idx;
ALTER TABLE audit_events
    DROP CONSTRAINT IF EXISTS audit_events_child_context_needs_child,
    DROP COLUMN IF EXISTS child_protected,
    DROP COLUMN IF EXISTS child_unit_id;
