use std::sync::Arc;
use std::time::Duration;

use crate::audit::checkpoint::CheckpointKey;
use crate::auth::secret_box::DataKey;
use crate::auth::throttle::ThrottlePolicy;
use crate::cli::ServeArgs;
use crate::clock::SystemClock;
use crate::config::{
    AuditSettings, CalendarSettings, DatabaseSettings, RateLimitSettings, Settings, SigningKey,
    WebhookSettings, DEFAULT_CHECKPOINT_EVERY_EVENTS,
};
use crate::startup::{Application, ServerOptions};

/// Refuses one secret given for two purposes: a leaked token key must not also open the second
/// factors or forge the audit checkpoints.
fn distinct_secrets(named: &[(&str, Option<String>)]) -> Result<(), String> {
    let given: Vec<(&str, &str)> = named
        .iter()
        .filter_map(|(name, value)| Some((*name, value.as_deref()?.trim())))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    for (i, (first, value)) in given.iter().enumerate() {
        if let Some((second, _)) = given[i + 1..].iter().find(|(_, other)| other == value) {
            return Err(format!(
                "{first} and {second} hold the same secret; generate one for each"
            ));
        }
    }
    Ok(())
}

/// Settings from the command line and environment; secrets only from the environment.
pub fn settings(args: ServeArgs) -> Result<Settings, String> {
    distinct_secrets(&[
        ("TRYGG_SIGNING_KEY", std::env::var("TRYGG_SIGNING_KEY").ok()),
        ("TRYGG_DATA_KEY", std::env::var("TRYGG_DATA_KEY").ok()),
        (
            "TRYGG_CHECKPOINT_KEY",
            std::env::var("TRYGG_CHECKPOINT_KEY").ok(),
        ),
    ])?;
    let signing_key =
        SigningKey::resolve(std::env::var("TRYGG_SIGNING_KEY").ok().as_deref(), args.dev)
            .map_err(|e| e.to_string())?;
    let checkpoint_key = CheckpointKey::resolve(
        std::env::var("TRYGG_CHECKPOINT_KEY").ok().as_deref(),
        args.dev,
    )
    .map_err(|e| e.to_string())?;
    let data_key = DataKey::resolve(
        std::env::var("TRYGG_DATA_KEY").ok().as_deref(),
        args.dev,
        &args.database.database_url,
    )
    .map_err(|e| e.to_string())?;
    Ok(Settings {
        data_key,
        database_url: args.database.database_url,
        bind: args.bind,
        dev_mode: args.dev,
        signing_key,
        database: DatabaseSettings {
            pool_size: args.pool_size,
            ..DatabaseSettings::default()
        },
        body_limit: args.body_limit,
        mfa_required: args.mfa_required.unwrap_or(!args.dev),
        throttle: ThrottlePolicy::default(),
        audit: AuditSettings {
            checkpoint_key,
            checkpoint_file: args.checkpoints.checkpoint_file,
            checkpoint_interval: Duration::from_secs(args.checkpoints.checkpoint_secs),
            checkpoint_every_events: checkpoint_every_events()?,
            seal_interval: Duration::from_millis(args.checkpoints.seal_ms),
            seal_lag_warning: crate::config::DEFAULT_SEAL_LAG_WARNING,
            sequencer: true,
        },
        rules: Arc::new(crate::rules::Rules::load().map_err(|e| e.to_string())?),
        rate_limits: RateLimitSettings {
            per_token_per_minute: args.rate_per_token,
            per_address_per_minute: args.rate_per_address,
        },
        calendar: CalendarSettings {
            first_names: args.calendar_first_names,
            public_url: public_url(args.public_url)?,
        },
        webhooks: WebhookSettings {
            private_targets: args.dev,
            ..WebhookSettings::default()
        },
    })
}

/// `TRYGG_PUBLIC_URL`: an `http(s)://` address without a query, kept without a trailing `/`.
fn public_url(given: Option<String>) -> Result<Option<String>, String> {
    let Some(url) = given.map(|u| u.trim().trim_end_matches('/').to_owned()) else {
        return Ok(None);
    };
    let plain = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(['?', '#', ' ']);
    if url.is_empty() || !plain {
        return Err("TRYGG_PUBLIC_URL must be an http(s):// address without query".into());
    }
    Ok(Some(url))
}

/// `TRYGG_AUDIT_CHECKPOINT_EVENTS`: sign a checkpoint once this many events are unsigned.
fn checkpoint_every_events() -> Result<i64, String> {
    match std::env::var("TRYGG_AUDIT_CHECKPOINT_EVENTS") {
        Err(_) => Ok(DEFAULT_CHECKPOINT_EVERY_EVENTS),
        Ok(value) => value
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                "TRYGG_AUDIT_CHECKPOINT_EVENTS must be a number from 1 to 1000000".into()
            }),
    }
}

pub fn run(args: ServeArgs) -> Result<(), String> {
    crate::telemetry::init(args.dev);
    let workers = args.workers;
    let settings = settings(args)?;
    if settings.dev_mode {
        tracing::warn!("development mode: never use it with real data");
    }
    let bind = settings.bind.clone();
    let dev_mode = settings.dev_mode;
    actix_web::rt::System::new().block_on(async move {
        let mut options = ServerOptions::default();
        if let Some(workers) = workers {
            options.workers = usize::from(workers);
        }
        let app = Application::build(settings, Arc::new(SystemClock), options)
            .await
            .map_err(|e| e.to_string())?;
        let host = bind.rsplit_once(':').map_or("127.0.0.1", |(host, _)| host);
        println!("Trygg is listening on http://{host}:{}", app.port());
        if dev_mode {
            // `./dev demo` hands on the password `seed-demo` made, so the logins are complete.
            let password = std::env::var("TRYGG_DEMO_PASSWORD").ok();
            let base_url = format!("http://{host}:{}", app.port());
            crate::demo::print_logins(&base_url, password.as_deref());
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::distinct_secrets;

    #[test]
    fn one_secret_for_two_purposes_is_refused() {
        let key = Some("c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4u".to_owned());
        let refused = distinct_secrets(&[
            ("TRYGG_SIGNING_KEY", key.clone()),
            ("TRYGG_DATA_KEY", Some("another".into())),
            ("TRYGG_CHECKPOINT_KEY", key),
        ]);
        assert!(refused
            .unwrap_err()
            .contains("TRYGG_SIGNING_KEY and TRYGG_CHECKPOINT_KEY"));
        let distinct = distinct_secrets(&[
            ("TRYGG_SIGNING_KEY", Some("a".into())),
            ("TRYGG_DATA_KEY", None),
            ("TRYGG_CHECKPOINT_KEY", Some(" ".into())),
        ]);
        assert!(distinct.is_ok());
    }
}
