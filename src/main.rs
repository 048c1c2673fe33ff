use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use trygg::cli::{Cli, Command, ServeArgs};
use trygg::clock::SystemClock;
use trygg::config::{DatabaseSettings, Settings, SigningKey};
use trygg::startup::{Application, ServerOptions};

fn main() -> ExitCode {
    // A missing .env is normal; the environment may supply everything.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("trygg: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    trygg::telemetry::init(args.dev);
    let configured_key = std::env::var("TRYGG_SIGNING_KEY").ok();
    let signing_key =
        SigningKey::resolve(configured_key.as_deref(), args.dev).map_err(|e| e.to_string())?;
    if args.dev {
        tracing::warn!("development mode: never use it with real data");
    }
    let settings = Settings {
        database_url: args.database.database_url,
        bind: args.bind,
        dev_mode: args.dev,
        signing_key,
        database: DatabaseSettings {
            pool_size: args.pool_size,
            ..DatabaseSettings::default()
        },
        body_limit: args.body_limit,
    };
    let bind = settings.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings, Arc::new(SystemClock), ServerOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        let host = bind.rsplit_once(':').map_or("127.0.0.1", |(host, _)| host);
        println!("Trygg is listening on http://{host}:{}", app.port());
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}
