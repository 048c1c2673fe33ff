DROP TRIGGER IF EXISTS child_secretaries_require_audit_event ON child_secretaries;
DROP TRIGGER IF EXISTS facility_staff_require_audit_event ON facility_staff;
ALTER TABLE child_secretaries DROP COLUMN IF EXISTS last_audit_event_id;
ALTER TABLE facility_staff DROP COLUMN IF EXISTS last_audit_event_id;
