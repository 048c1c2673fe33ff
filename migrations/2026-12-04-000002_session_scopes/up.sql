-- A system may ask for fewer scopes than it holds (`scope` in client_credentials); its session
-- keeps what it asked for, and every request is judged by the scopes both the session and the
-- account still hold. NULL: every scope of the account, as the account holds them.
ALTER TABLE sessions ADD COLUMN scopes text[]
    CHECK (scopes IS NULL OR service_account_id IS NOT NULL);
