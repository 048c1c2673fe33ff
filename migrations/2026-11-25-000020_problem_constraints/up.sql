-- Each refusal of check_placement() names its rule as the constraint that refused
-- (PG_DIAG_CONSTRAINT_NAME), so the service maps it to its problem code by that name, never by
-- the message. A full facility is an exclusion (409, with other placements), like an overlap;
-- the others are checks (422). The function is otherwise as in placement_rules_in_db.
CREATE OR REPLACE FUNCTION check_placement() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    fac facilities;
    kid children;
    rules rule_sets;
    busiest integer;
BEGIN
    IF NEW.cancelled_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO fac FROM facilities WHERE id = NEW.facility_id FOR UPDATE;
    SELECT * INTO kid FROM children WHERE id = NEW.child_id;
    rules := rules_on(NEW.start_date);
    IF rules IS NULL THEN
        RAISE EXCEPTION 'no rules in force on %', NEW.start_date USING ERRCODE = 'check_violation';
    END IF;
    IF upper(NEW.period) - 1 >= birthday(kid.date_of_birth, rules.placement_end_age) THEN
        RAISE EXCEPTION 'placement_age_limit: a placement ends no later than the day before the % birthday', rules.placement_end_age
            USING ERRCODE = 'check_violation', CONSTRAINT = 'placements_age_limit';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF fac.kind = 'supported_housing' THEN
            IF NEW.start_date < birthday(kid.date_of_birth, rules.supported_housing_min_age) THEN
                RAISE EXCEPTION 'supported_housing_age: too young for supported housing'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'placements_supported_housing_age';
            END IF;
            IF NEW.start_date < birthday(kid.date_of_birth, rules.special_reasons_below_age)
               AND NEW.special_reasons IS NULL THEN
                RAISE EXCEPTION 'special_reasons_required: supported housing before % needs special reasons', rules.special_reasons_below_age
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'placements_special_reasons_required';
            END IF;
        END IF;
        -- A child's first placement is in an HVB home, unless a reason to deviate is recorded.
        IF fac.kind <> 'hvb' AND NEW.deviation_reason IS NULL AND NOT EXISTS (
            SELECT 1 FROM placements p
            WHERE p.child_id = NEW.child_id AND p.id <> NEW.id AND p.cancelled_at IS NULL
        ) THEN
            RAISE EXCEPTION 'first_placement_hvb: a first placement is in an HVB home unless a reason to deviate is recorded'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'placements_first_hvb';
        END IF;
    END IF;
    -- Only days the placement newly holds can overbook: a shorter or unchanged period never
    -- does, even where capacity was lowered after those days were lived.
    SELECT max(n) INTO busiest FROM (
        SELECT count(*) AS n
        FROM generate_series(lower(NEW.period), upper(NEW.period) - 1, interval '1 day') AS d(day)
        JOIN placements p
          ON p.facility_id = NEW.facility_id AND p.cancelled_at IS NULL AND p.period @> d.day::date
        WHERE TG_OP = 'INSERT'
           OR OLD.cancelled_at IS NOT NULL
           OR OLD.facility_id <> NEW.facility_id
           OR NOT (OLD.period @> d.day::date)
        GROUP BY d.day
    ) AS per_day;
    IF busiest > fac.capacity THEN
        RAISE EXCEPTION 'capacity_exceeded: facility % would hold % children on a day; capacity is %', fac.id, busiest, fac.capacity
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'placements_facility_capacity';
    END IF;
    RETURN NULL;
END
$$;
