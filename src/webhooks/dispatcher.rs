//! The background task that sends webhooks: each tick it queues what the chain gained
//! ([`outbox::fan_out`]), then claims due deliveries and sends them, several at once, each
//! signed as `signing` describes, and records each attempt. It runs on a database connection
//! of its own, so deliveries never wait behind requests for the pool.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::join_all;
use reqwest::header::CONTENT_TYPE;

use super::outbox::{self, Claimed, Outcome};
use super::{signing, target};
use crate::auth::secret_box::DataKey;
use crate::config::WebhookSettings;
use crate::db::Db;

/// Deliveries sent at once.
const IN_FLIGHT: i64 = 16;
/// The most rounds of claim and send in one tick, so a backlog never starves fan-out.
const ROUNDS_PER_TICK: usize = 8;

pub struct Dispatcher {
    pub db: Db,
    pub settings: WebhookSettings,
    pub data_key: DataKey,
}

/// The client every delivery goes through: the address-checking resolver, no redirects (a
/// redirect could lead anywhere), no proxy from the environment, a bounded wait.
fn client(settings: &WebhookSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(target::Resolver {
            private_targets: settings.private_targets,
        }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(settings.timeout)
        .user_agent(concat!("Trygg-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the webhook client's settings are valid")
}

pub fn spawn(dispatcher: Dispatcher) {
    actix_web::rt::spawn(async move {
        let client = client(&dispatcher.settings);
        let dispatcher = Arc::new(dispatcher);
        let mut ticker = actix_web::rt::time::interval(dispatcher.settings.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = dispatcher.tick(&client).await {
                tracing::warn!(%error, "webhook dispatch failed");
            }
        }
    });
}

impl Dispatcher {
    async fn tick(self: &Arc<Self>, client: &reqwest::Client) -> crate::error::AppResult<()> {
        self.db.run(outbox::fan_out).await?;
        let lease = self.settings.timeout + Duration::from_secs(30);
        for _ in 0..ROUNDS_PER_TICK {
            let claimed = self
                .db
                .run(move |conn| outbox::claim(conn, IN_FLIGHT, lease))
                .await?;
            if claimed.is_empty() {
                break;
            }
            let sends = claimed.into_iter().map(|delivery| {
                let this = Arc::clone(self);
                let client = client.clone();
                async move {
                    let outcome = this.send(&client, &delivery).await;
                    let settings = this.settings.clone();
                    this.db
                        .run(move |conn| outbox::record(conn, &settings, &delivery, &outcome))
                        .await
                }
            });
            for result in join_all(sends).await {
                result?;
            }
        }
        Ok(())
    }

    /// The secrets that sign now: the current one, and the one before it while it overlaps.
    fn secrets(&self, delivery: &Claimed) -> Vec<String> {
        let bound = delivery.subscription_id.as_bytes();
        let mut secrets: Vec<String> = self
            .data_key
            .open(bound, &delivery.secret_sealed)
            .into_iter()
            .collect();
        if let (Some(sealed), Some(until)) = (
            &delivery.previous_secret_sealed,
            delivery.previous_secret_until,
        ) {
            if until > Utc::now() {
                secrets.extend(self.data_key.open(bound, sealed));
            }
        }
        secrets
    }

    /// One attempt; never an error, only an outcome.
    async fn send(&self, client: &reqwest::Client, delivery: &Claimed) -> Outcome {
        let started_at = Utc::now();
        let clock = Instant::now();
        let failed = |error: &str| Outcome {
            started_at,
            duration: clock.elapsed(),
            status: None,
            error: Some(error.to_owned()),
        };
        // Checked again: the rules may have tightened since the URL was registered.
        let Ok(url) = target::check(&delivery.url, self.settings.private_targets) else {
            return failed("the target is no longer allowed");
        };
        let secrets = self.secrets(delivery);
        if secrets.is_empty() {
            return failed("the signing secret cannot be read with this data key");
        }
        let id = format!("msg_{}", delivery.id.simple());
        let timestamp = started_at.timestamp();
        let signature = signing::signature_header(&secrets, &id, timestamp, &delivery.body);
        let sent = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                Outcome {
                    started_at,
                    duration: clock.elapsed(),
                    status: Some(status),
                    error: (!(200..300).contains(&status))
                        .then(|| format!("the receiver answered {status}")),
                }
            }
            Err(error) if error.is_timeout() => failed("no answer in time"),
            Err(error) if error.is_connect() => failed("could not connect (or no public address)"),
            Err(_) => failed("the request failed"),
        }
    }
}
