use std::process::ExitCode;

use clap::Parser;

use trygg::cli::{AuditCommand, Cli, Command, RetentionCommand};
use trygg::commands;

fn main() -> ExitCode {
    trygg::db::tls::prepare();
    // A missing .env is normal; the environment may supply everything.
    let _ = dotenvy::dotenv();
    let result = match Cli::parse().command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Migrate(args) => {
            trygg::telemetry::init(false);
            trygg::db::run_migrations(&args.database_url)
                .map(|applied| println!("{} migration(s) applied", applied.len()))
                .map_err(|e| e.to_string())
        }
        Command::SeedDemo(args) => {
            trygg::telemetry::init(true);
            trygg::demo::seed(&args.database.database_url, args.dev).map_err(|e| e.to_string())
        }
        Command::CreateUser(args) => commands::create_user::run(args),
        Command::Audit(AuditCommand::Verify(args)) => commands::audit::verify(args),
        Command::Audit(AuditCommand::Checkpoint(args)) => commands::audit::checkpoint(args),
        Command::Retention(RetentionCommand::Run(args)) => commands::retention::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("trygg: {message}");
            ExitCode::FAILURE
        }
    }
}
