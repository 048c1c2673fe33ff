-- The previous check_placement and rules_on are restored by re-running the care migration's
-- definitions; this only removes what was added.
DROP FUNCTION IF EXISTS birthday(date, integer);
