DROP TABLE age_assessments;
