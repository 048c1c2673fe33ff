-- The service works as `trygg_app`, a role that cannot log in and holds only the rights the
-- service needs. Every pooled connection runs `SET ROLE trygg_app`, so these limits hold even when
-- the configured login is a superuser (as in development). Roles are cluster-wide, hence IF NOT EXISTS.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trygg_app') THEN
        CREATE ROLE trygg_app NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'trygg_app', 'MEMBER') THEN
        EXECUTE format('GRANT trygg_app TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO trygg_app;

-- Tables get SELECT, INSERT, UPDATE for the service and nothing more: DELETE and TRUNCATE are
-- granted table by table where a rule allows them (case records are never deleted).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE ON TABLES TO trygg_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO trygg_app;

-- Exclusion constraints over (uuid, daterange) need GiST support for equality on scalars.
CREATE EXTENSION IF NOT EXISTS btree_gist;
