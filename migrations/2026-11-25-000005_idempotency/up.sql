-- Answers to POSTs sent with an Idempotency-Key, so a retrying client creates nothing twice.
-- Kept for a day (the service deletes older ones as it goes).
CREATE TABLE idempotency_keys (
    owner        text NOT NULL CHECK (length(owner) <= 100),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  text NOT NULL,
    status       integer,
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
GRANT DELETE ON idempotency_keys TO trygg_app;
