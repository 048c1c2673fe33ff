//! The command line. Flags override environment variables; secrets come only from the
//! environment or standard input, never from arguments (which other users can see in `ps`).

use clap::{Args, Parser, Subcommand};

use crate::config::{DEFAULT_BIND, DEFAULT_BODY_LIMIT};

#[derive(Debug, Parser)]
#[command(
    name = "trygg",
    version,
    about = "Trygg: case management for unaccompanied minors placed by social services",
    long_about = "Trygg keeps the cases of unaccompanied minors: children, placements in HVB homes \
and supported housing, visits, age-out plans, and an audit log of every read and write.\n\n\
Configuration comes from the environment (a .env file in the working directory is read too): \
DATABASE_URL, TRYGG_BIND, TRYGG_SIGNING_KEY, TRYGG_DEV, RUST_LOG. Flags override them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Fill an empty database with demo data and demo logins (development mode only).
    SeedDemo(SeedArgs),
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL connection URL, e.g. postgres://postgres@127.0.0.1:5432/trygg.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address and port to listen on.
    #[arg(long, env = "TRYGG_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Development mode: a generated signing key if none is set, demo logins. Never in production.
    #[arg(long, env = "TRYGG_DEV")]
    pub dev: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TRYGG_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Database connections in the pool.
    #[arg(long, env = "TRYGG_DB_POOL_SIZE", default_value_t = 10)]
    pub pool_size: u32,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Must be set: demo data and demo passwords never go into a production database.
    #[arg(long, env = "TRYGG_DEV")]
    pub dev: bool,
}
