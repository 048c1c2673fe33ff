//! The test harness: `spawn_app()` and a `TestApp` whose methods read like what users do.

pub mod arrange;
pub mod care;
pub mod database;
pub mod db_proxy;
pub mod service_accounts;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use trygg::audit::checkpoint::CheckpointKey;
use trygg::auth::throttle::ThrottlePolicy;
use trygg::clock::ManualClock;
use trygg::config::{AuditSettings, DatabaseSettings, Settings, SigningKey, DEFAULT_BODY_LIMIT};
use trygg::startup::{Application, ServerOptions};

pub use database::TestDatabase;

pub struct TestApp {
    pub settings: Arc<Settings>,
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub db: TestDatabase,
}

/// How a test wants its app; `Default` is the usual case.
#[derive(Default)]
pub struct AppOptions {
    /// Route the app's database connections through this URL instead of straight to the server.
    pub database_url_override: Option<String>,
    pub body_limit: Option<usize>,
    pub throttle: Option<ThrottlePolicy>,
    pub rate_limits: Option<trygg::config::RateLimitSettings>,
    /// Connections in the app's pool (default 4): at least as many as the test's requests that
    /// hold one at the same time, such as requests it keeps waiting on a lock.
    pub pool_size: Option<u32>,
    /// How long a request waits for a pooled connection before a 503 (default 1 s, so a test
    /// of an unreachable database is quick).
    pub acquire_timeout: Option<Duration>,
    /// Sign a checkpoint after this many events (default: the production default).
    pub checkpoint_every_events: Option<i64>,
    /// Run no sequencer: what the app's requests write stays queued (a crash before sealing).
    pub no_sequencer: bool,
    /// What calendar feeds may say (default: no names, links to the request's address).
    pub calendar: Option<trygg::config::CalendarSettings>,
    /// How webhooks are sent (default [`quick_webhooks`]).
    pub webhooks: Option<trygg::config::WebhookSettings>,
}

/// As [`quick_webhooks`], with no dispatcher: for tests whose counts or digests its passes would
/// disturb, and tests that drive the outbox by hand.
pub fn without_dispatcher() -> Option<trygg::config::WebhookSettings> {
    Some(trygg::config::WebhookSettings {
        dispatcher: false,
        ..quick_webhooks()
    })
}

/// Webhooks as tests want them: to the test's own receiver on loopback, quickly retried.
pub fn quick_webhooks() -> trygg::config::WebhookSettings {
    trygg::config::WebhookSettings {
        tick: Duration::from_millis(50),
        first_retry: Duration::from_millis(50),
        longest_retry: Duration::from_millis(200),
        attempts: 4,
        disable_after: 2,
        timeout: Duration::from_secs(5),
        private_targets: true,
        ..trygg::config::WebhookSettings::default()
    }
}

impl AppOptions {
    /// For a test that sends `requests` at once: a connection for each that may hold one, and
    /// time for the others to wait their turn rather than fail under a loaded machine.
    pub fn concurrent(requests: u32) -> Self {
        AppOptions {
            pool_size: Some(requests.clamp(4, 10)),
            acquire_timeout: Some(Duration::from_secs(30)),
            ..AppOptions::default()
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let db = TestDatabase::create();
    let database_url = options
        .database_url_override
        .map(|base| database::with_database_name(&base, db.name()))
        .unwrap_or_else(|| db.url());
    let settings = Settings {
        database_url,
        bind: "127.0.0.1:0".into(),
        dev_mode: false,
        signing_key: SigningKey::generate(),
        database: DatabaseSettings {
            pool_size: options.pool_size.unwrap_or(4),
            acquire_timeout: options.acquire_timeout.unwrap_or(Duration::from_secs(1)),
            ..DatabaseSettings::default()
        },
        body_limit: options.body_limit.unwrap_or(DEFAULT_BODY_LIMIT),
        mfa_required: true,
        throttle: options.throttle.unwrap_or_default(),
        audit: AuditSettings {
            checkpoint_key: CheckpointKey::generate(),
            checkpoint_file: std::env::temp_dir().join(format!("{}-checkpoints.jsonl", db.name())),
            checkpoint_interval: Duration::from_secs(60),
            checkpoint_every_events: options
                .checkpoint_every_events
                .unwrap_or(trygg::config::DEFAULT_CHECKPOINT_EVERY_EVENTS),
            seal_interval: trygg::config::DEFAULT_SEAL_INTERVAL,
            seal_lag_warning: trygg::config::DEFAULT_SEAL_LAG_WARNING,
            sequencer: !options.no_sequencer,
        },
        rules: Arc::new(trygg::rules::Rules::built_in()),
        rate_limits: options.rate_limits.unwrap_or_default(),
        calendar: options.calendar.unwrap_or_default(),
        webhooks: options.webhooks.unwrap_or_else(quick_webhooks),
        data_key: trygg::auth::secret_box::DataKey::generate(),
    };
    let settings = Arc::new(settings);
    // A fixed, ordinary Tuesday morning in Stockholm, so dates in tests never depend on today.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap(),
    ));
    let app = Application::build(
        (*settings).clone(),
        clock.clone(),
        ServerOptions {
            workers: 1,
            run_migrations: false,
        },
    )
    .await
    .expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.into_server());
    TestApp {
        settings,
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        clock,
        db,
    }
}

impl Drop for TestApp {
    /// The checkpoint file lives outside the database, so it is not dropped with it.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.settings.audit.checkpoint_file);
    }
}

impl TestApp {
    /// Another instance of the service on this app's database and clock (a restarted or a
    /// second process), with `audit` settings of its own; not yet serving.
    pub async fn another_instance(&self, audit: AuditSettings) -> Application {
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            audit,
            ..(*self.settings).clone()
        };
        Application::build(
            settings,
            self.clock.clone(),
            ServerOptions {
                workers: 1,
                run_migrations: false,
            },
        )
        .await
        .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }
}

/// Reads a problem+json answer, checking its content type and that `status` matches.
pub async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    body
}
