//! The dispatcher's database work: turning the sealed chain into deliveries, claiming the ones
//! that are due, and recording how each attempt went.
//!
//! - **Fan-out.** For each enabled subscription, the changes after its `position`, of the kinds
//!   it follows, become deliveries, and `position` moves on, in one transaction; a subscription
//!   is taken with `SKIP LOCKED`, so two dispatchers never queue the same change twice (and
//!   `UNIQUE (subscription_id, position)` would refuse it if they tried).
//! - **Claim.** A due delivery is claimed by moving its `next_attempt_at` to the end of a lease
//!   and counting the attempt, committed before anything is sent; a dispatcher that dies while
//!   sending leaves a delivery that is due again when the lease ends (at least once).
//! - **Record.** The attempt's row goes into the log, and the delivery is done, failed, or due
//!   again after a back-off; only if it is still the claim it was (a redelivery meanwhile wins).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::json;
use uuid::Uuid;

use crate::audit::feed::{self, Change};
use crate::audit::sequencer::chain_tail;
use crate::audit::{self, AuditAction, AuditActor, AuditEvent, EntityType};
use crate::config::WebhookSettings;
use crate::db::schema::{webhook_deliveries, webhook_progress};
use crate::error::AppResult;
use crate::http::pagination::encode_position;

/// Changes queued for one subscription in one transaction.
const FAN_OUT_BATCH: i64 = 500;

/// The body of a delivery: what changed and where the change feed goes on from it, never the
/// record's data (a receiver reads that with its own scopes).
pub fn body_of(change: &Change) -> String {
    json!({
        "type": format!("{}.{}", change.entity_type, change.action),
        "timestamp": change.occurred_at,
        "data": {
            "entity_type": change.entity_type,
            "entity_id": change.entity_id,
            "change": change.action,
            "child_id": change.child_id,
            "at": change.occurred_at,
            "cursor": encode_position(change.position),
        }
    })
    .to_string()
}

#[derive(QueryableByName)]
struct Behind {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Array<Text>)]
    entity_types: Vec<String>,
    #[diesel(sql_type = BigInt)]
    position: i64,
    /// The units its account is granted (`None`: every unit).
    #[diesel(sql_type = Nullable<diesel::sql_types::Array<SqlUuid>>)]
    unit_ids: Option<Vec<Uuid>>,
}

/// Queues what the chain holds beyond each enabled subscription's position; returns how many
/// deliveries it queued.
pub fn fan_out(conn: &mut PgConnection) -> AppResult<usize> {
    let (tail, _) = chain_tail(conn)?;
    let mut queued = 0;
    loop {
        let more = conn.transaction::<_, diesel::result::Error, _>(|conn| {
            let behind: Vec<Behind> = diesel::sql_query(
                "SELECT s.id, s.entity_types, p.position, a.unit_ids
                   FROM webhook_progress p
                   JOIN webhook_subscriptions s ON s.id = p.subscription_id
                   JOIN service_accounts a ON a.id = s.service_account_id
                  WHERE p.position < $1 AND p.disabled_at IS NULL AND s.active AND a.active
                  ORDER BY p.position
                  LIMIT 1
                    FOR UPDATE OF p SKIP LOCKED",
            )
            .bind::<BigInt, _>(tail)
            .load(conn)?;
            let Some(sub) = behind.into_iter().next() else {
                return Ok(None);
            };
            let types: Vec<EntityType> = sub
                .entity_types
                .iter()
                .filter_map(|t| EntityType::parse(t))
                .collect();
            let changes = feed::after(
                conn,
                (sub.position, tail),
                FAN_OUT_BATCH,
                &types,
                sub.unit_ids.as_deref(),
            )?;
            let reached = match changes.last() {
                Some(last) if changes.len() as i64 == FAN_OUT_BATCH => last.position,
                _ => tail,
            };
            let rows: Vec<_> = changes
                .iter()
                .map(|change| {
                    (
                        webhook_deliveries::id.eq(Uuid::now_v7()),
                        webhook_deliveries::subscription_id.eq(sub.id),
                        webhook_deliveries::position.eq(change.position),
                        webhook_deliveries::body.eq(body_of(change)),
                        webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
                        webhook_deliveries::created_at.eq(diesel::dsl::now),
                    )
                })
                .collect();
            diesel::insert_into(webhook_deliveries::table)
                .values(&rows)
                .execute(conn)?;
            diesel::update(webhook_progress::table.find(sub.id))
                .set(webhook_progress::position.eq(reached))
                .execute(conn)?;
            Ok(Some(rows.len()))
        })?;
        match more {
            Some(n) => queued += n,
            None => return Ok(queued),
        }
    }
}

/// A delivery claimed for one attempt, with what sending it needs.
#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub subscription_id: Uuid,
    #[diesel(sql_type = Text)]
    pub body: String,
    /// This attempt's number since the delivery was queued or redelivered.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret_sealed: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_secret_sealed: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub previous_secret_until: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due deliveries of enabled subscriptions, each for a lease of `lease`.
pub fn claim(conn: &mut PgConnection, limit: i64, lease: Duration) -> AppResult<Vec<Claimed>> {
    Ok(diesel::sql_query(
        "WITH due AS (
             SELECT d.id
               FROM webhook_deliveries d
               JOIN webhook_subscriptions s ON s.id = d.subscription_id
               JOIN webhook_progress p ON p.subscription_id = s.id
               JOIN service_accounts a ON a.id = s.service_account_id
              WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                AND s.active AND p.disabled_at IS NULL AND a.active
              ORDER BY d.next_attempt_at, d.position
              LIMIT $1
                FOR UPDATE OF d SKIP LOCKED
         )
         UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1,
                next_attempt_at = now() + make_interval(secs => $2)
           FROM due, webhook_subscriptions s
          WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.subscription_id, d.body, d.attempts, s.url, s.secret_sealed,
                   s.previous_secret_sealed, s.previous_secret_until",
    )
    .bind::<BigInt, _>(limit)
    .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
    .load(conn)?)
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why it failed, in our words, when it did.
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The wait before attempt `attempts + 1`: the first retry, doubled for each attempt after
/// the first, up to the longest, less up to a tenth at random so retries of many deliveries
/// spread out.
pub fn back_off(settings: &WebhookSettings, attempts: i32) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let wait = settings
        .first_retry
        .saturating_mul(1u32 << doublings)
        .min(settings.longest_retry);
    let jitter = rand::random::<f64>() * 0.1;
    wait.mul_f64(1.0 - jitter)
}

/// Records the attempt of a claimed delivery and what follows from it.
pub fn record(
    conn: &mut PgConnection,
    settings: &WebhookSettings,
    claimed: &Claimed,
    outcome: &Outcome,
) -> AppResult<()> {
    conn.transaction(|conn| {
        let still_ours: Option<i32> = webhook_deliveries::table
            .find(claimed.id)
            .filter(webhook_deliveries::state.eq("pending"))
            .filter(webhook_deliveries::attempts.eq(claimed.attempts))
            .select(webhook_deliveries::attempts)
            .for_update()
            .first(conn)
            .optional()?;
        diesel::sql_query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status, error)
             SELECT $1, coalesce(max(attempt), 0) + 1, $2, $3, $4, $5
               FROM webhook_attempts WHERE delivery_id = $1",
        )
        .bind::<SqlUuid, _>(claimed.id)
        .bind::<Timestamptz, _>(outcome.started_at)
        .bind::<Integer, _>(outcome.duration.as_millis().min(i32::MAX as u128) as i32)
        .bind::<Nullable<Integer>, _>(outcome.status.map(i32::from))
        .bind::<Nullable<Text>, _>(outcome.error.as_deref())
        .execute(conn)?;
        if still_ours.is_none() {
            return Ok(());
        }
        let delivery = webhook_deliveries::table.find(claimed.id);
        let progress = webhook_progress::table.find(claimed.subscription_id);
        if outcome.succeeded() {
            diesel::update(delivery)
                .set((
                    webhook_deliveries::state.eq("delivered"),
                    webhook_deliveries::delivered_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
            diesel::update(progress)
                .set(webhook_progress::failed_in_a_row.eq(0))
                .execute(conn)?;
        } else if claimed.attempts < settings.attempts as i32 {
            let wait = back_off(settings, claimed.attempts);
            diesel::sql_query(
                "UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2)
                  WHERE id = $1",
            )
            .bind::<SqlUuid, _>(claimed.id)
            .bind::<diesel::sql_types::Double, _>(wait.as_secs_f64())
            .execute(conn)?;
        } else {
            diesel::update(delivery)
                .set(webhook_deliveries::state.eq("failed"))
                .execute(conn)?;
            let failed: i32 = diesel::update(progress)
                .set(webhook_progress::failed_in_a_row.eq(webhook_progress::failed_in_a_row + 1))
                .returning(webhook_progress::failed_in_a_row)
                .get_result(conn)?;
            if failed >= settings.disable_after as i32 {
                disable(conn, claimed.subscription_id, failed)?;
            }
        }
        Ok(())
    })
}

/// Disables a subscription after `failed` failed deliveries in a row, as the system's own
/// audited change; its owner sees why and turns it on again.
fn disable(conn: &mut PgConnection, subscription: Uuid, failed: i32) -> AppResult<()> {
    diesel::update(webhook_progress::table.find(subscription))
        .filter(webhook_progress::disabled_at.is_null())
        .set(webhook_progress::disabled_at.eq(diesel::dsl::now))
        .execute(conn)?;
    let event = AuditEvent::new(
        AuditActor::system(),
        AuditAction::Update,
        EntityType::WebhookSubscription,
        Some(subscription),
        Utc::now(),
    )
    .purpose(format!(
        "disabled after {failed} failed deliveries in a row"
    ))
    .changed(["disabled"]);
    audit::append(conn, &[event])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebhookSettings {
        WebhookSettings {
            first_retry: Duration::from_secs(30),
            longest_retry: Duration::from_secs(3600),
            ..WebhookSettings::default()
        }
    }

    #[test]
    fn the_wait_doubles_up_to_the_cap() {
        let s = settings();
        let within = |attempts, secs: f64| {
            let wait = back_off(&s, attempts).as_secs_f64();
            assert!(wait <= secs && wait >= secs * 0.9, "{attempts}: {wait}");
        };
        within(1, 30.0);
        within(2, 60.0);
        within(3, 120.0);
        within(7, 1920.0);
        within(8, 3600.0);
        within(40, 3600.0);
    }

    #[test]
    fn only_a_2xx_answer_is_a_delivery() {
        let outcome = |status, error: Option<&str>| Outcome {
            started_at: Utc::now(),
            duration: Duration::ZERO,
            status,
            error: error.map(str::to_owned),
        };
        assert!(outcome(Some(200), None).succeeded());
        assert!(outcome(Some(204), None).succeeded());
        assert!(!outcome(Some(301), None).succeeded());
        assert!(!outcome(Some(500), None).succeeded());
        assert!(!outcome(None, Some("timed out")).succeeded());
    }
}
