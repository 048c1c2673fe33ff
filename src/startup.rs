//! Building the app is a function: the binary, the tests and the benchmarks all start the same
//! service from one `Settings` value.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::audit::checkpoint_task::Checkpointer;
use crate::auth::tokens::TokenKeys;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{build_pool, run_migrations, DatabaseSettings, Db};
use crate::error::AppError;
use crate::http::request_context::request_context;
pub use crate::state::AppState;
use crate::state::BodyLimit;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot load the rules into the database: {0}")]
    Rules(String),
    #[error(transparent)]
    Migration(#[from] crate::db::migrations::MigrationError),
    #[error(transparent)]
    Durability(#[from] crate::db::durability::DurabilityError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    server: Server,
    checkpointer: Checkpointer,
}

/// Options that differ between production and tests.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    pub workers: usize,
    pub run_migrations: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            run_migrations: true,
        }
    }
}

/// The database's triggers enforce the same ages as the service: give them the same rules.
async fn sync_rules(pool: &crate::db::PgPool, settings: &Settings) -> Result<(), StartupError> {
    let pool = pool.clone();
    let rules = settings.rules.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        crate::db::rule_sets::sync(&mut conn, &rules).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| StartupError::Rules(e.to_string()))?
    .map_err(StartupError::Rules)
}

impl Application {
    pub async fn build(
        settings: Settings,
        clock: SharedClock,
        options: ServerOptions,
    ) -> Result<Self, StartupError> {
        if options.run_migrations {
            let url = settings.database_url.clone();
            let applied = web::block(move || run_migrations(&url))
                .await
                .map_err(|e| {
                    crate::db::migrations::MigrationError::Run(format!("migration task: {e}"))
                })??;
            if !applied.is_empty() {
                tracing::info!(count = applied.len(), "applied migrations");
            }
        }
        // Committed audit events must survive a crash: refuse an unsafe PostgreSQL.
        let (url, dev_mode) = (settings.database_url.clone(), settings.dev_mode);
        web::block(move || crate::db::durability::check(&url, dev_mode))
            .await
            .map_err(|e| crate::db::durability::DurabilityError::Task(e.to_string()))??;
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                address: settings.bind.clone(),
                source,
            })?
            .port();
        let pool = build_pool(&settings.database_url, &settings.database);
        sync_rules(&pool, &settings).await?;
        let body_limit = settings.body_limit;
        let rate_limits = web::Data::from(crate::http::rate_limit::RateLimits::new(
            settings.rate_limits,
        ));
        let state = web::Data::new(AppState {
            db: Db::new(pool),
            clock,
            tokens: Arc::new(TokenKeys::new(&settings.signing_key)),
            settings: Arc::new(settings),
        });
        let checkpointer = Checkpointer {
            db: state.db.clone(),
            clock: state.clock.clone(),
            key: state.settings.audit.checkpoint_key.clone(),
            file: state.settings.audit.checkpoint_file.clone(),
        };
        if state.settings.audit.sequencer {
            // A connection of its own: sealing never queues behind requests for the pool, so
            // the chain's lag stays bounded however busy the service is.
            let own = DatabaseSettings {
                pool_size: 1,
                ..state.settings.database.clone()
            };
            crate::audit::sequencer::spawn(
                Db::new(build_pool(&state.settings.database_url, &own)),
                state.settings.audit.seal_interval,
                state.settings.audit.seal_lag_warning,
            );
        }
        if state.settings.webhooks.dispatcher {
            let own = DatabaseSettings {
                pool_size: 2,
                ..state.settings.database.clone()
            };
            crate::webhooks::dispatcher::spawn(crate::webhooks::dispatcher::Dispatcher {
                db: Db::new(build_pool(&state.settings.database_url, &own)),
                settings: state.settings.webhooks.clone(),
                data_key: state.settings.data_key.clone(),
            });
        }
        crate::audit::checkpoint_task::spawn(
            checkpointer.clone(),
            state.settings.audit.checkpoint_interval,
            state.settings.audit.checkpoint_every_events,
        );
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(rate_limits.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    AppError::bad_request(format!("invalid query: {error}")).into()
                }))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()),
                )
                .configure(crate::routes::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(AppError::NotFound)
                }))
                .wrap(from_fn(crate::http::idempotency::idempotency))
                .wrap(from_fn(crate::http::rate_limit::rate_limit))
                .wrap(from_fn(request_context))
        })
        .workers(options.workers)
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            address: "listener".into(),
            source,
        })?
        .run();
        Ok(Self {
            port,
            server,
            checkpointer,
        })
    }

    /// Stops the server from elsewhere (a test, or a signal handler of the caller's own).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until stopped (a signal, or [`Application::handle`]), then, once the requests in
    /// flight have ended, signs a last checkpoint of the audit chain.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        crate::audit::checkpoint_task::on_shutdown(&self.checkpointer).await;
        served
    }

    /// The bare server, without the last checkpoint at shutdown (tests that never stop).
    pub fn into_server(self) -> Server {
        self.server
    }
}
