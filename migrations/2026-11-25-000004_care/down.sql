DROP TABLE IF EXISTS emergency_accesses, placement_reviews;
DROP TRIGGER IF EXISTS placements_check ON placements;
DROP TABLE IF EXISTS placements, child_secretaries, children, facility_staff, facilities, rule_sets;
DROP FUNCTION IF EXISTS check_placement(), placements_are_kept(), rules_on(date);
