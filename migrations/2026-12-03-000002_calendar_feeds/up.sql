-- A person's calendar feed: the due contacts of her worklist as an iCalendar feed that calendar
-- programs fetch without a bearer token. The token is 256 random bits shown once; only its
-- SHA-256 is kept, so a copy of this table cannot be presented as a token. A feed ends when its
-- owner revokes or replaces it, or changes her password; a deactivated owner's feed answers 401
-- (checked at every fetch). Rows are never deleted: the trail of who had a feed stays.
CREATE TABLE calendar_feeds (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    token_hash          text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    revoked_reason      text CHECK (revoked_reason IN ('revoked', 'replaced', 'password_changed', 'deactivated', 'profession_changed')),
    last_audit_event_id uuid NOT NULL REFERENCES audit_events (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
    CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);
-- One live feed per person: a new one replaces (revokes) the old in the same transaction.
CREATE UNIQUE INDEX calendar_feeds_one_live_idx ON calendar_feeds (user_id) WHERE revoked_at IS NULL;
CREATE CONSTRAINT TRIGGER calendar_feeds_require_audit_event
    AFTER INSERT OR UPDATE ON calendar_feeds DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION require_audit_event();
-- trygg_app gets SELECT, INSERT, UPDATE by the default privileges of the first migration, and
-- no DELETE: a feed is revoked, never removed.
