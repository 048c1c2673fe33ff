//! Typed configuration. Everything the service needs comes in as one `Settings` value, built by
//! the command line (from flags and environment) or directly by tests and benchmarks.

use std::time::Duration;

pub use crate::auth::signing_key::{ConfigError, SigningKey, MIN_SIGNING_KEY_BYTES};
pub use crate::db::{DatabaseSettings, SERVICE_ROLE};

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    /// Development mode: generated keys, demo data allowed. Never in production.
    pub dev_mode: bool,
    pub signing_key: SigningKey,
    pub database: DatabaseSettings,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// People must use a second factor (on by default outside development mode).
    pub mfa_required: bool,
    pub throttle: crate::auth::throttle::ThrottlePolicy,
    pub audit: AuditSettings,
    /// Seals second-factor secrets in the database; kept outside it.
    pub data_key: crate::auth::secret_box::DataKey,
    /// Ages, intervals and legal bases with the dates they take effect.
    pub rules: std::sync::Arc<crate::rules::Rules>,
    /// Requests a minute per bearer token and per client address.
    pub rate_limits: RateLimitSettings,
    /// What calendar feeds may say, and where their links point.
    pub calendar: CalendarSettings,
    /// How webhooks are sent, retried and given up on.
    pub webhooks: WebhookSettings,
}

/// Webhook deliveries: at least once, with exponential back-off up to a cap, and a
/// subscription disabled after repeated failure (its owner turns it on again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Whether this process sends webhooks at all.
    pub dispatcher: bool,
    /// How often the dispatcher looks for new changes and due deliveries.
    pub tick: Duration,
    /// The wait after a first failed attempt; it doubles with each failure after that...
    pub first_retry: Duration,
    /// ...up to this.
    pub longest_retry: Duration,
    /// Attempts before a delivery counts as failed.
    pub attempts: u32,
    /// Failed deliveries in a row that disable a subscription.
    pub disable_after: u32,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// How long the secret before a rotation still signs (both signatures are sent).
    pub secret_overlap: Duration,
    /// Targets over plain `http` or on loopback and private addresses (development and tests
    /// only: in production a webhook must not reach into the municipality's own network).
    pub private_targets: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            dispatcher: true,
            tick: Duration::from_millis(500),
            // 30 s, 1 min, 2 min, ... capped at an hour: 12 attempts span about 7 hours.
            first_retry: Duration::from_secs(30),
            longest_retry: Duration::from_secs(3600),
            attempts: 12,
            disable_after: 5,
            timeout: Duration::from_secs(10),
            secret_overlap: Duration::from_secs(24 * 3600),
            private_targets: false,
        }
    }
}

/// The calendar feed is read by third-party calendar services and phones: by default its events
/// name no child, only a short case reference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarSettings {
    /// Events also give the child's first name (`TRYGG_CALENDAR_FIRST_NAMES`); never for a child
    /// with a protected identity.
    pub first_names: bool,
    /// The address people reach the service at, without a trailing `/` (`TRYGG_PUBLIC_URL`);
    /// `None`: the address a request came to.
    pub public_url: Option<String>,
}

#[derive(Clone, Debug)]
pub struct AuditSettings {
    /// Signs checkpoints of the audit chain; never stored in the database.
    pub checkpoint_key: crate::audit::checkpoint::CheckpointKey,
    /// Where signed checkpoints are appended, outside the database.
    pub checkpoint_file: std::path::PathBuf,
    pub checkpoint_interval: Duration,
    /// A checkpoint is also signed as soon as the chain has grown by this many events since
    /// the last one (checked every second), so a busy minute leaves a bounded unsigned tail.
    pub checkpoint_every_events: i64,
    /// How often the sequencer seals what has committed (`TRYGG_AUDIT_SEAL_MS`).
    pub seal_interval: Duration,
    /// A sealing pass that finds an event waiting longer than this says so in the log.
    pub seal_lag_warning: Duration,
    /// Whether this process runs a sequencer (tests of an unsealed backlog turn it off).
    pub sequencer: bool,
}

/// Requests a minute (each with a burst of the same size) per bearer token and per client
/// address; see `http::rate_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub per_token_per_minute: u32,
    pub per_address_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        // A person clicks far below this; a client system syncing pages stays under it. One
        // office behind a NAT shares an address, so an address may do more than a token.
        Self {
            per_token_per_minute: 1_200,
            per_address_per_minute: 6_000,
        }
    }
}

/// Default of [`AuditSettings::checkpoint_every_events`] (`TRYGG_AUDIT_CHECKPOINT_EVENTS`).
pub const DEFAULT_CHECKPOINT_EVERY_EVENTS: i64 = 1_000;

/// Default of [`AuditSettings::seal_interval`]: well inside the one second the chain may lag.
pub const DEFAULT_SEAL_INTERVAL: Duration = Duration::from_millis(100);
/// Default of [`AuditSettings::seal_lag_warning`].
pub const DEFAULT_SEAL_LAG_WARNING: Duration = Duration::from_secs(1);

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
