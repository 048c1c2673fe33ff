//! Appending events: inserted in the caller's transaction, with no lock and no coordination
//! with other requests. Each event's number comes from a sequence and the database queues it
//! (trigger `audit_events_queue`); the sequencer (`audit::sequencer`) links it into the chain
//! once it has committed. So an audited request waits on nobody else's commit.

use diesel::pg::PgConnection;
use diesel::prelude::*;

use super::chain::{content_digest, Content};
use super::event::AuditEvent;
use crate::db::schema::audit_events;
use crate::error::{AppError, AppResult};

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewRow<'a> {
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

/// Writes `events` inside the caller's transaction, to be sealed once it commits. If this fails, the caller's
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
    let rows: Vec<NewRow<'_>> = events
        .iter()
        .map(|event| NewRow {
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
            content_digest: content_digest(&content_of(event)).to_vec(),
        })
        .collect();
    // Large list reads produce many events; keep each statement under PostgreSQL's bind limit.
    for chunk in rows.chunks(1000) {
        diesel::insert_into(audit_events::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}
