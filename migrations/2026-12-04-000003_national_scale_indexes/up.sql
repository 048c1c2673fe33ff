-- Indexes the national-scale benchmark showed missing (bench/RESULTS.md).
-- A child's placements, cancelled ones included: the only index on child_id was the partial
-- one behind the exclusion constraint, so listing a child's placements scanned them all.
CREATE INDEX placements_child_idx ON placements (child_id, start_date);
-- The auditor's filter by child over a period: one range scan, whatever plan the statement
-- cache settles on (the generic plan ANDed the child and time indexes instead).
CREATE INDEX audit_events_child_time_idx ON audit_events (child_id, occurred_at)
    WHERE child_id IS NOT NULL;
