//! Appending events. All appends take one transaction-scoped advisory lock and hold it until
//! commit, so no two events share a predecessor and the chain's order is the commit order.
//! Call `append` last in a transaction, just before it commits, to hold the lock briefly.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::chain::{content_digest, link_hash, Content, GENESIS};
use super::event::AuditEvent;
use crate::db::schema::audit_events;
use crate::error::{AppError, AppResult};

const CHAIN_LOCK: i64 = 0x7472_7967_675f_6175;

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewRow<'a> {
    seq: i64,
    id: uuid::Uuid,
    occurred_at: chrono::DateTime<chrono::Utc>,
    actor_type: &'a str,
    actor_id: Option<uuid::Uuid>,
    actor_role: Option<&'a str>,
    actor_unit_id: Option<uuid::Uuid>,
    action: &'a str,
    outcome: &'a str,
    entity_type: &'a str,
    entity_id: Option<uuid::Uuid>,
    child_id: Option<uuid::Uuid>,
    child_unit_id: Option<uuid::Uuid>,
    child_protected: bool,
    request_id: Option<&'a str>,
    client_addr: Option<&'a str>,
    purpose: Option<&'a str>,
    changed_fields: &'a [String],
    content_digest: Vec<u8>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

pub(crate) fn content_of(event: &AuditEvent) -> Content<'_> {
    Content {
        id: event.id,
        occurred_at: event.occurred_at,
        actor_type: event.actor.actor_type.as_str(),
        actor_id: event.actor.id,
        actor_role: event.actor.role.as_deref(),
        actor_unit_id: event.actor.unit_id,
        action: event.action.as_str(),
        outcome: event.outcome.as_str(),
        entity_type: event.entity_type.as_str(),
        entity_id: event.entity_id,
        child_id: event.child_id,
        child_unit_id: event.child_unit_id,
        child_protected: event.child_protected,
        request_id: event.request_id.as_deref(),
        client_addr: event.client_addr.as_deref(),
        purpose: event.purpose.as_deref(),
        changed_fields: &event.changed_fields,
    }
}

/// The newest event's sequence number and hash, or the genesis position.
pub fn chain_tail(conn: &mut PgConnection) -> QueryResult<(i64, Vec<u8>)> {
    Ok(audit_events::table
        .select((audit_events::seq, audit_events::hash))
        .order(audit_events::seq.desc())
        .first::<(i64, Vec<u8>)>(conn)
        .optional()?
        .unwrap_or((0, GENESIS.to_vec())))
}

/// Appends `events` to the chain inside the caller's transaction. If this fails, the caller's
/// transaction must fail with it: an unaudited change or read never commits.
pub fn append(conn: &mut PgConnection, events: &[AuditEvent]) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    append_rows(conn, events).map_err(|error| {
        tracing::error!(%error, "audit append failed");
        AppError::AuditUnavailable
    })
}

fn append_rows(conn: &mut PgConnection, events: &[AuditEvent]) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(CHAIN_LOCK)
        .execute(conn)?;
    let (mut seq, mut prev_hash) = chain_tail(conn)?;
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let digest = content_digest(&content_of(event));
        let hash = link_hash(seq, &prev_hash, &digest);
        rows.push(NewRow {
            seq,
            id: event.id,
            occurred_at: event.occurred_at,
            actor_type: event.actor.actor_type.as_str(),
            actor_id: event.actor.id,
            actor_role: event.actor.role.as_deref(),
            actor_unit_id: event.actor.unit_id,
            action: event.action.as_str(),
            outcome: event.outcome.as_str(),
            entity_type: event.entity_type.as_str(),
            entity_id: event.entity_id,
            child_id: event.child_id,
            child_unit_id: event.child_unit_id,
            child_protected: event.child_protected,
            request_id: event.request_id.as_deref(),
            client_addr: event.client_addr.as_deref(),
            purpose: event.purpose.as_deref(),
            changed_fields: &event.changed_fields,
            content_digest: digest.to_vec(),
            prev_hash: std::mem::take(&mut prev_hash),
            hash: hash.to_vec(),
        });
        prev_hash = hash.to_vec();
    }
    // Large list reads produce many events; keep each statement under PostgreSQL's bind limit.
    for chunk in rows.chunks(1000) {
        diesel::insert_into(audit_events::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}
