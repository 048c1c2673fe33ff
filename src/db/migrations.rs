use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any stable number: the advisory lock that keeps two starting instances from migrating at once.
const MIGRATION_LOCK: i64 = 0x7472_7967_675f_6d69;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("migration failed: {0}")]
    Run(String),
}

/// Applies every pending embedded migration, as the configured login (not the service role).
pub fn run_migrations(database_url: &str) -> Result<Vec<String>, MigrationError> {
    super::tls::prepare();
    let mut conn = PgConnection::establish(database_url)?;
    let lock = |conn: &mut PgConnection, sql: &str| {
        sql_query(sql)
            .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
            .execute(conn)
            .map_err(|e| MigrationError::Run(e.to_string()))
    };
    lock(&mut conn, "SELECT pg_advisory_lock($1)")?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| MigrationError::Run(e.to_string()));
    lock(&mut conn, "SELECT pg_advisory_unlock($1)")?;
    applied
}
