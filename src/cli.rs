//! The command line. Flags override environment variables; secrets come only from the
//! environment or standard input, never from arguments (which other users can see in `ps`).

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand};

use crate::config::{RateLimitSettings, DEFAULT_BIND, DEFAULT_BODY_LIMIT};

#[derive(Debug, Parser)]
#[command(
    name = "trygg",
    version,
    about = "Trygg: case management for unaccompanied minors placed by social services",
    long_about = "Trygg keeps the cases of unaccompanied minors: children, their placements in HVB homes \
and supported housing, capacity, and an audit log of every read and write.\n\n\
Configuration comes from the environment (a .env file in the working directory is read too): \
DATABASE_URL, TRYGG_BIND, TRYGG_SIGNING_KEY, TRYGG_CHECKPOINT_KEY, TRYGG_DATA_KEY, TRYGG_DEV, \
RUST_LOG (see README). Secrets come only from the environment. Flags override the rest."
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
    /// Create a user, such as the first system administrator. The password is read from
    /// TRYGG_PASSWORD or, if unset, from standard input; never from an argument.
    CreateUser(CreateUserArgs),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Retention (gallring): remove the personal data of cases past their keeping time.
    #[command(subcommand)]
    Retention(RetentionCommand),
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Remove or pseudonymise what has passed the retention rules (placements are kept), one
    /// transaction and one audit event per child; with --dry-run, only print what would go.
    Run(RetentionArgs),
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub checkpoints: CheckpointArgs,
    /// Print, per child (by id, never by name), what would be removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Development mode: a missing checkpoint key is generated (then no old checkpoint vouches
    /// for an event, and the audit log keeps every event's details).
    #[arg(long, env = "TRYGG_DEV", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub dev: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and compare its end with the latest signed checkpoint.
    Verify(AuditArgs),
    /// Sign the chain's current end and append it to the checkpoint file.
    Checkpoint(AuditArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub checkpoints: CheckpointArgs,
    /// Development mode: a missing checkpoint key is generated (checkpoints then prove nothing).
    #[arg(long, env = "TRYGG_DEV", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub dev: bool,
    /// Checkpoints kept by a witness outside the server (JSON lines, as
    /// GET /api/v1/audit-events/checkpoints/latest gives them): the chain must hold them too.
    #[arg(long = "witness")]
    pub witness: Vec<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// File outside the database where signed checkpoints of the audit chain are appended.
    #[arg(
        long,
        env = "TRYGG_AUDIT_CHECKPOINT_FILE",
        default_value = "var/audit-checkpoints.jsonl"
    )]
    pub checkpoint_file: std::path::PathBuf,
    /// Seconds between automatic checkpoints (at most 60).
    #[arg(long, env = "TRYGG_AUDIT_CHECKPOINT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub checkpoint_secs: u64,
    /// Milliseconds between the sequencer's passes, which seal committed events into the chain.
    #[arg(long, env = "TRYGG_AUDIT_SEAL_MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(10..=1000))]
    pub seal_ms: u64,
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Login name: lowercase letters, digits, '.', '_' or '-', 3 to 64 characters.
    #[arg(long)]
    pub username: String,
    /// One of: social_secretary, unit_manager, hvb_staff, housing_staff, administrator,
    /// auditor, system_admin.
    #[arg(long)]
    pub profession: String,
    /// Name of the organisational unit (created if it does not exist yet).
    #[arg(long)]
    pub unit: Option<String>,
    /// Name shown to others; defaults to the username.
    #[arg(long)]
    pub display_name: Option<String>,
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
    #[arg(long, env = "TRYGG_DEV", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub dev: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "TRYGG_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,
    /// Requests a minute one bearer token may make (with a burst of as many).
    #[arg(long, env = "TRYGG_RATE_PER_TOKEN", default_value_t = RateLimitSettings::default().per_token_per_minute)]
    pub rate_per_token: u32,
    /// Requests a minute one client address may make (with a burst of as many).
    #[arg(long, env = "TRYGG_RATE_PER_ADDRESS", default_value_t = RateLimitSettings::default().per_address_per_minute)]
    pub rate_per_address: u32,
    /// Database connections in the requests' pool (the audit sequencer has one more of its
    /// own). Every request's database work holds one for its transaction, so this bounds the
    /// transactions in flight: a few per core of the database server.
    #[arg(long, env = "TRYGG_DB_POOL_SIZE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub pool_size: u32,
    /// HTTP worker threads (default: one per core). They only parse, route and answer; database
    /// work and argon2 run on the blocking pool.
    #[arg(long, env = "TRYGG_WORKERS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,
    /// Require a second factor for people: `true` or `false`. Default: on, off in development.
    #[arg(long, env = "TRYGG_MFA_REQUIRED", value_parser = BoolishValueParser::new())]
    pub mfa_required: Option<bool>,
    #[command(flatten)]
    pub checkpoints: CheckpointArgs,
    /// The address people reach the service at (`https://trygg.example.se`), for the calendar
    /// feed's URL and the links in its events. Default: the address a request came to.
    #[arg(long, env = "TRYGG_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Calendar feeds name the child by first name (`true`/`false`, default off); never a child
    /// with a protected identity, who is only ever her case reference.
    #[arg(long, env = "TRYGG_CALENDAR_FIRST_NAMES", value_parser = BoolishValueParser::new(), default_value_t = false)]
    pub calendar_first_names: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Must be set: demo data and demo passwords never go into a production database.
    #[arg(long, env = "TRYGG_DEV", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub dev: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scripts set TRYGG_DEV=1; clap's plain bool parser would refuse "1".
    #[test]
    fn trygg_dev_accepts_1_and_0_from_the_environment() {
        for (value, expected) in [("1", true), ("yes", true), ("0", false), ("false", false)] {
            // Only this test reads TRYGG_DEV, so setting it here races with nothing.
            std::env::set_var("TRYGG_DEV", value);
            let cli =
                Cli::try_parse_from(["trygg", "seed-demo", "--database-url", "postgres://h/db"])
                    .expect("parses");
            std::env::remove_var("TRYGG_DEV");
            match cli.command {
                Command::SeedDemo(args) => assert_eq!(args.dev, expected, "TRYGG_DEV={value}"),
                other => panic!("parsed as {other:?}"),
            }
        }
    }
}
