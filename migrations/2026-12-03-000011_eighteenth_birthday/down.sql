ALTER TABLE children DROP CONSTRAINT children_guardian_end_after_appointment,
    DROP COLUMN guardian_special_follows, DROP COLUMN guardian_ended_on;
ALTER TABLE placement_reviews DROP CONSTRAINT placement_reviews_kind_check;
ALTER TABLE placement_reviews ADD CONSTRAINT placement_reviews_kind_check
    CHECK (kind IN ('reconsideration', 'care_plan', 'continued_care_after_18'));
