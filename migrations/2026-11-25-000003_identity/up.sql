-- Organisational units, the people who use Trygg, other systems, and their sessions.

CREATE TABLE units (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    username            text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name        text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    profession          text NOT NULL CHECK (profession IN (
                            'social_secretary', 'unit_manager', 'hvb_staff', 'housing_staff',
                            'administrator', 'auditor', 'system_admin')),
    unit_id             uuid REFERENCES units (id),
    active              boolean NOT NULL DEFAULT true,
    password_hash       text NOT NULL,
    password_changed_at timestamptz NOT NULL,
    -- Second factor (RFC 6238). A pending secret becomes active when a code confirms it.
    totp_secret         text,
    totp_confirmed_at   timestamptz,
    totp_last_step      bigint,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (totp_confirmed_at IS NULL OR totp_secret IS NOT NULL),
    -- Case work happens in a unit: these professions must belong to one.
    CHECK (unit_id IS NOT NULL OR profession IN ('administrator', 'auditor', 'system_admin'))
);

CREATE CONSTRAINT TRIGGER users_require_audit_event
    AFTER INSERT OR UPDATE ON users DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

CREATE CONSTRAINT TRIGGER units_require_audit_event
    AFTER INSERT OR UPDATE ON units DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- One-time recovery codes for a lost second factor, stored as SHA-256 (they carry >= 60 bits).
CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  text NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
GRANT DELETE ON recovery_codes TO trygg_app;

CREATE TABLE service_accounts (
    id                  uuid PRIMARY KEY,
    client_id           text NOT NULL UNIQUE CHECK (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    secret_hash         text NOT NULL,
    scopes              text[] NOT NULL CHECK (cardinality(scopes) > 0),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1 CHECK (version > 0),
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE CONSTRAINT TRIGGER service_accounts_require_audit_event
    AFTER INSERT OR UPDATE ON service_accounts DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();

-- A login. Every request checks its session here, so logging out, a password change or a
-- deactivation takes effect on the very next request, whatever the access token says.
CREATE TABLE sessions (
    id                 uuid PRIMARY KEY,
    user_id            uuid REFERENCES users (id),
    service_account_id uuid REFERENCES service_accounts (id),
    -- 'full', or 'enrolment' (may only enrol a second factor).
    stage              text NOT NULL CHECK (stage IN ('full', 'enrolment')),
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    revoked_reason     text CHECK (revoked_reason IN (
                           'logout', 'refresh_reuse', 'password_changed', 'deactivated',
                           'profession_changed', 'administrator')),
    CHECK ((user_id IS NULL) <> (service_account_id IS NULL)),
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens rotate on every use; a used one presented again revokes its whole session.
CREATE TABLE refresh_tokens (
    token_hash  text PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id),
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Failed logins per account name and per client address. Unknown names are throttled exactly
-- like known ones, so the throttle reveals nothing about who has an account.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY CHECK (key ~ '^(account|address):'),
    failures        integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at timestamptz,
    locked_at       timestamptz
);
