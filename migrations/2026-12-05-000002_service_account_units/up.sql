-- The units a service account is granted: it sees the children, facilities, reports and changes
-- of those units only. NULL: every unit (a municipality-wide system, such as finance or
-- statistics); never an empty list, which would grant nothing and is better said by
-- deactivating the account.
ALTER TABLE service_accounts
    ADD COLUMN unit_ids uuid[] CHECK (unit_ids IS NULL OR cardinality(unit_ids) > 0);

-- An array cannot carry a foreign key: the same promise, kept by a trigger.
CREATE FUNCTION service_account_units_exist() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.unit_ids IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(NEW.unit_ids) AS granted(id)
        WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.id = granted.id)
    ) THEN
        RAISE EXCEPTION 'service account granted a unit that does not exist'
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = 'service_accounts_unit_ids_fkey';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER service_accounts_units_exist
    BEFORE INSERT OR UPDATE OF unit_ids ON service_accounts
    FOR EACH ROW EXECUTE FUNCTION service_account_units_exist();
