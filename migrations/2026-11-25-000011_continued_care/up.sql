-- Care after 18 is a decision, never automatic: a placement that runs past the 18th birthday
-- needs a recorded decision to continue.
ALTER TABLE placement_reviews DROP CONSTRAINT placement_reviews_kind_check;
ALTER TABLE placement_reviews ADD CONSTRAINT placement_reviews_kind_check
    CHECK (kind IN ('reconsideration', 'care_plan', 'continued_care_after_18'));
