ALTER TABLE placement_reviews DROP CONSTRAINT placement_reviews_kind_check;
ALTER TABLE placement_reviews ADD CONSTRAINT placement_reviews_kind_check
    CHECK (kind IN ('reconsideration', 'care_plan'));
