//! How a webhook subscription and its deliveries are shown to their owner: never the sealed
//! secret; the secret itself only in the answer that makes it.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::store::{AttemptRow, DeliveryRow, Subscription};
use crate::http::etag::{created, not_stored, tagged};

#[derive(Debug, Serialize)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub entity_types: Vec<String>,
    /// Whether its owner has it on (`PATCH` with `active`).
    pub active: bool,
    /// When repeated failure disabled it; `PATCH` with `"active": true` turns it on again.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Deliveries that failed in a row since the last that arrived.
    pub failed_deliveries_in_a_row: i32,
    /// Until when the secret before the last rotation also signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Subscription> for WebhookView {
    fn from((row, progress): Subscription) -> Self {
        Self {
            id: row.id,
            url: row.url,
            entity_types: row.entity_types,
            active: row.active,
            disabled_at: progress.disabled_at,
            failed_deliveries_in_a_row: progress.failed_in_a_row,
            previous_secret_until: row.previous_secret_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
struct WithSecretView {
    #[serde(flatten)]
    webhook: WebhookView,
    /// Signs every delivery (Standard Webhooks); shown this once.
    secret: String,
}

/// 200 with the subscription, tagged with its version.
pub fn shown(subscription: Subscription) -> HttpResponse {
    let (id, version) = (subscription.0.id, subscription.0.version);
    tagged(
        StatusCode::OK,
        id,
        version,
        &WebhookView::from(subscription),
    )
}

/// 201 for a registered subscription, with its secret.
pub fn registered(subscription: Subscription, secret: String) -> HttpResponse {
    let id = subscription.0.id;
    let body = WithSecretView {
        webhook: subscription.into(),
        secret,
    };
    not_stored(created(format!("/api/v1/webhooks/{id}"), id, &body))
}

/// 200 for a subscription with a new secret, shown this once.
pub fn rotated(subscription: Subscription, secret: String) -> HttpResponse {
    let (id, version) = (subscription.0.id, subscription.0.version);
    let body = WithSecretView {
        webhook: subscription.into(),
        secret,
    };
    not_stored(tagged(StatusCode::OK, id, version, &body))
}

#[derive(Debug, Serialize)]
pub struct AttemptView {
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status: Option<i32>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeliveryView {
    pub id: Uuid,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// What was sent: the body's `data`.
    pub change: serde_json::Value,
    /// Attempts since it was queued or last redelivered.
    pub attempts: i32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every attempt ever made, first first.
    pub log: Vec<AttemptView>,
}

impl DeliveryView {
    pub fn of(delivery: DeliveryRow, attempts: Vec<AttemptRow>) -> Self {
        let body: serde_json::Value = serde_json::from_str(&delivery.body).unwrap_or_default();
        Self {
            id: delivery.id,
            change: body["data"].clone(),
            next_attempt_at: (delivery.state == "pending").then_some(delivery.next_attempt_at),
            state: delivery.state,
            attempts: delivery.attempts,
            delivered_at: delivery.delivered_at,
            created_at: delivery.created_at,
            log: attempts
                .into_iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    started_at: a.started_at,
                    duration_ms: a.duration_ms,
                    status: a.status,
                    error: a.error,
                })
                .collect(),
        }
    }
}
