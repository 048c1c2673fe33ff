ALTER TABLE idempotency_keys
    DROP COLUMN claim,
    DROP COLUMN claimed_until;
