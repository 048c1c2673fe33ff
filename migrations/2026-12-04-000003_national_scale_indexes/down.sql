DROP INDEX audit_events_child_time_idx;
DROP INDEX placements_child_idx;
