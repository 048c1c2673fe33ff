DROP TABLE visits;
DROP FUNCTION visits_are_kept();
DROP TABLE contact_schedules;
