//! A service account's subscriptions and their delivery log, as its owner reads and changes
//! them. Every query names the owning account: another account's subscription is not found.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::input::Target;
use crate::audit::EntityType;
use crate::db::schema::{
    webhook_attempts, webhook_deliveries, webhook_progress, webhook_subscriptions,
};
use crate::error::AppResult;
use crate::http::pagination::Page;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_subscriptions)]
pub struct SubscriptionRow {
    pub id: Uuid,
    pub service_account_id: Uuid,
    pub url: String,
    pub entity_types: Vec<String>,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_progress)]
pub struct ProgressRow {
    pub position: i64,
    pub failed_in_a_row: i32,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A subscription with what the dispatcher knows of it.
pub type Subscription = (SubscriptionRow, ProgressRow);

impl SubscriptionRow {
    pub fn target(&self) -> Target {
        Target {
            url: self.url.clone(),
            entity_types: self
                .entity_types
                .iter()
                .filter_map(|t| EntityType::parse(t))
                .collect(),
        }
    }
}

fn type_names(types: &[EntityType]) -> Vec<&'static str> {
    types.iter().map(|t| t.as_str()).collect()
}

/// A new subscription, following the chain from `position` on (what changes after now).
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    account: Uuid,
    target: &Target,
    secret_sealed: &str,
    position: i64,
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Subscription> {
    let row = diesel::insert_into(webhook_subscriptions::table)
        .values((
            webhook_subscriptions::id.eq(id),
            webhook_subscriptions::service_account_id.eq(account),
            webhook_subscriptions::url.eq(&target.url),
            webhook_subscriptions::entity_types.eq(type_names(&target.entity_types)),
            webhook_subscriptions::secret_sealed.eq(secret_sealed),
            webhook_subscriptions::created_at.eq(now),
            webhook_subscriptions::updated_at.eq(now),
            webhook_subscriptions::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)?;
    let progress = diesel::insert_into(webhook_progress::table)
        .values((
            webhook_progress::subscription_id.eq(id),
            webhook_progress::position.eq(position),
        ))
        .returning(ProgressRow::as_returning())
        .get_result(conn)?;
    Ok((row, progress))
}

/// The account's subscription `id`; `lock` holds it against other writers.
pub fn find(
    conn: &mut PgConnection,
    account: Uuid,
    id: Uuid,
    lock: bool,
) -> AppResult<Option<Subscription>> {
    let query = webhook_subscriptions::table
        .inner_join(webhook_progress::table)
        .filter(webhook_subscriptions::id.eq(id))
        .filter(webhook_subscriptions::service_account_id.eq(account))
        .select((SubscriptionRow::as_select(), ProgressRow::as_select()));
    Ok(if lock {
        query.for_no_key_update().first(conn).optional()?
    } else {
        query.first(conn).optional()?
    })
}

/// One page of the account's subscriptions in creation order (`page.limit + 1` rows).
pub fn list(conn: &mut PgConnection, account: Uuid, page: Page) -> AppResult<Vec<Subscription>> {
    let mut query = webhook_subscriptions::table
        .inner_join(webhook_progress::table)
        .filter(webhook_subscriptions::service_account_id.eq(account))
        .select((SubscriptionRow::as_select(), ProgressRow::as_select()))
        .order(webhook_subscriptions::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(webhook_subscriptions::id.gt(after));
    }
    Ok(query.load(conn)?)
}

/// Writes the configured fields if the row is still at `expected_version`.
pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    expected_version: i32,
    (target, active): (&Target, bool),
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Option<SubscriptionRow>> {
    Ok(diesel::update(
        webhook_subscriptions::table
            .find(id)
            .filter(webhook_subscriptions::version.eq(expected_version)),
    )
    .set((
        webhook_subscriptions::url.eq(&target.url),
        webhook_subscriptions::entity_types.eq(type_names(&target.entity_types)),
        webhook_subscriptions::active.eq(active),
        webhook_subscriptions::updated_at.eq(now),
        webhook_subscriptions::version.eq(webhook_subscriptions::version + 1),
        webhook_subscriptions::last_audit_event_id.eq(audit_event_id),
    ))
    .returning(SubscriptionRow::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Turns on again a subscription that repeated failure disabled: failures start from zero.
pub fn clear_disabled(conn: &mut PgConnection, id: Uuid) -> AppResult<ProgressRow> {
    Ok(diesel::update(webhook_progress::table.find(id))
        .set((
            webhook_progress::disabled_at.eq(None::<DateTime<Utc>>),
            webhook_progress::failed_in_a_row.eq(0),
        ))
        .returning(ProgressRow::as_returning())
        .get_result(conn)?)
}

/// Replaces the signing secret; the one it replaces keeps signing until `overlap_until`.
pub fn set_secret(
    conn: &mut PgConnection,
    id: Uuid,
    sealed: &str,
    previous: (&str, DateTime<Utc>),
    audit_event_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<SubscriptionRow> {
    Ok(diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::secret_sealed.eq(sealed),
            webhook_subscriptions::previous_secret_sealed.eq(Some(previous.0)),
            webhook_subscriptions::previous_secret_until.eq(Some(previous.1)),
            webhook_subscriptions::updated_at.eq(now),
            webhook_subscriptions::version.eq(webhook_subscriptions::version + 1),
            webhook_subscriptions::last_audit_event_id.eq(audit_event_id),
        ))
        .returning(SubscriptionRow::as_returning())
        .get_result(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub position: i64,
    pub body: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status: Option<i32>,
    pub error: Option<String>,
}

/// One page of a subscription's deliveries in the order they were queued, each with its
/// attempts (two queries, whatever the page's length).
pub fn deliveries(
    conn: &mut PgConnection,
    subscription: Uuid,
    state: Option<&str>,
    page: Page,
) -> AppResult<Vec<(DeliveryRow, Vec<AttemptRow>)>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(subscription))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(webhook_deliveries::id.gt(after));
    }
    if let Some(state) = state {
        query = query.filter(webhook_deliveries::state.eq(state.to_owned()));
    }
    let rows: Vec<DeliveryRow> = query.load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let mut attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .select(AttemptRow::as_select())
        .order((webhook_attempts::delivery_id, webhook_attempts::attempt))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|delivery| {
            let (own, rest) = attempts
                .drain(..)
                .partition(|a| a.delivery_id == delivery.id);
            attempts = rest;
            (delivery, own)
        })
        .collect())
}

/// Queues delivery `id` of the account's subscriptions again, now, with a fresh count of
/// attempts; `None` when the account has no such delivery.
pub fn redeliver(
    conn: &mut PgConnection,
    account: Uuid,
    id: Uuid,
) -> AppResult<Option<DeliveryRow>> {
    let owned = webhook_subscriptions::table
        .filter(webhook_subscriptions::service_account_id.eq(account))
        .select(webhook_subscriptions::id);
    Ok(diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::subscription_id.eq_any(owned)),
    )
    .set((
        webhook_deliveries::state.eq("pending"),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
        webhook_deliveries::delivered_at.eq(None::<DateTime<Utc>>),
    ))
    .returning(DeliveryRow::as_returning())
    .get_result(conn)
    .optional()?)
}
