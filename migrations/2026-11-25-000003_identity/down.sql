DROP TABLE IF EXISTS login_throttle, refresh_tokens, sessions, service_accounts, recovery_codes, users, units;
