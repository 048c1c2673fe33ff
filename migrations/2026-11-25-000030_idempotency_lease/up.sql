-- A claimed key (status NULL) is held only while the request that claimed it runs: that request
-- renews `claimed_until` as it goes (by the service's clock), so a request killed with the
-- service, or cut off from the database, stops renewing and its claim lapses within one lease.
-- A retry then takes the claim over with one conditional UPDATE, which gives the claim a new
-- `claim` token; the earlier request's outcome is stored only under its own token.
-- Claims left before this migration have no lease and count as lapsed.
ALTER TABLE idempotency_keys
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN claim uuid;
