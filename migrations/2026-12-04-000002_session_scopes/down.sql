ALTER TABLE sessions DROP COLUMN scopes;
