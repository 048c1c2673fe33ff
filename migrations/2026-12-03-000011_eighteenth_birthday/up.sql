-- The 18th birthday is a decision point: besides the decision on care after 18, the notice to
-- Migrationsverket that the municipality keeps its responsibility (a placement review of its
-- own kind, recorded when sent), and the end of the god man's appointment, recorded on the
-- child's guardian with whether a specially appointed guardian follows.
ALTER TABLE placement_reviews DROP CONSTRAINT placement_reviews_kind_check;
ALTER TABLE placement_reviews ADD CONSTRAINT placement_reviews_kind_check
    CHECK (kind IN ('reconsideration', 'care_plan', 'continued_care_after_18', 'migration_agency_notice'));
ALTER TABLE children
    ADD COLUMN guardian_ended_on date,
    ADD COLUMN guardian_special_follows boolean,
    ADD CONSTRAINT children_guardian_end_after_appointment
        CHECK (guardian_ended_on IS NULL OR guardian_appointed_on IS NULL OR guardian_ended_on >= guardian_appointed_on);
