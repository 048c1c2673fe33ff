DROP FUNCTION IF EXISTS require_audit_event();
DROP TABLE IF EXISTS audit_events;
DROP FUNCTION IF EXISTS audit_events_are_append_only();
