DROP TABLE age_out_reviews;
DROP TABLE age_out_progress_notes;
DROP TABLE age_out_goal_versions;
DROP TABLE age_out_goals;
DROP TABLE age_out_plan_versions;
DROP TABLE age_out_plans;
DROP FUNCTION age_out_records_are_kept();
