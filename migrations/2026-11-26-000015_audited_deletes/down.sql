DROP TRIGGER IF EXISTS recovery_codes_delete_requires_audit_event ON recovery_codes;
DROP TRIGGER IF EXISTS facility_staff_delete_requires_audit_event ON facility_staff;
DROP TRIGGER IF EXISTS child_secretaries_delete_requires_audit_event ON child_secretaries;
DROP FUNCTION IF EXISTS require_audit_event_for_delete();
DROP INDEX IF EXISTS audit_events_txid_idx;
