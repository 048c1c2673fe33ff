//! Demo data for a newcomer's local database. Development mode only.

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("demo data is only for development: set TRYGG_DEV=1 (never on a real database)")]
    NotDevelopment,
    #[error(transparent)]
    Migration(#[from] crate::db::migrations::MigrationError),
}

pub fn seed(database_url: &str, dev_mode: bool) -> Result<(), SeedError> {
    if !dev_mode {
        return Err(SeedError::NotDevelopment);
    }
    crate::db::run_migrations(database_url)?;
    println!("Demo database is migrated.");
    Ok(())
}
