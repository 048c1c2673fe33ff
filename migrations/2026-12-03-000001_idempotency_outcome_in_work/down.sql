ALTER TABLE idempotency_keys DROP COLUMN work_txid;
