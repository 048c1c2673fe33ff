DROP TRIGGER service_accounts_units_exist ON service_accounts;
DROP FUNCTION service_account_units_exist();
ALTER TABLE service_accounts DROP COLUMN unit_ids;
