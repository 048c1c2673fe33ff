-- The work of a request holding an Idempotency-Key names its own transaction on the key's row,
-- in that very transaction: when the row shows `work_txid`, the work has committed, whether or
-- not the request lived to store its answer. A retry after the lease then answers from the
-- work's audit events instead of running it again (see src/http/idempotency.rs).
ALTER TABLE idempotency_keys ADD COLUMN work_txid bigint;
