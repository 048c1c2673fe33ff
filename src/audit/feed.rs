//! What changed, read off the sealed audit chain: the change feed for other systems
//! (`changes/`) and the webhooks' outbox (`webhooks/`) are this one query.
//!
//! The feed is read off the sealed audit chain. Its positions are given only to committed
//! events, in the order they are sealed, and a position once given is never given again; so a
//! cursor at a position has seen every change that will ever sit below it, and a change that
//! commits later (even one whose transaction began earlier) lands above it. Nothing is skipped.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::{AuditAction, EntityType};

/// The kinds of change a feed reports: every successful write, under the name it has in the
/// audit log. Protection decisions are left out: they would tell who has a protected identity.
pub const CHANGES: [AuditAction; 4] = [
    AuditAction::Create,
    AuditAction::Update,
    AuditAction::Cancel,
    AuditAction::ReassessAge,
];

/// The records whose changes a partner system follows. Sign-ins, users, service accounts,
/// calendar feeds and the audit log itself are the service's own business.
pub const ENTITIES: [EntityType; 10] = [
    EntityType::Child,
    EntityType::Placement,
    EntityType::Facility,
    EntityType::Unit,
    EntityType::ContactSchedule,
    EntityType::Visit,
    EntityType::AgeOutPlan,
    EntityType::AgeOutGoal,
    EntityType::AgeOutProgressNote,
    EntityType::AgeOutReview,
];

#[derive(Debug, QueryableByName)]
pub struct Change {
    #[diesel(sql_type = BigInt)]
    pub position: i64,
    #[diesel(sql_type = Text)]
    pub entity_type: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub entity_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub child_id: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
}

/// Up to `limit` changes to records of `entities` after position `after` and at most
/// `through`, in chain order. Events about a child who had a protected identity at the time
/// are never in a feed; with `units`, changes about children are those of children of these
/// units only (the units a system is granted; changes to facilities and units are not about
/// anyone and stay in).
pub fn after(
    conn: &mut PgConnection,
    (after, through): (i64, i64),
    limit: i64,
    entities: &[EntityType],
    units: Option<&[Uuid]>,
) -> QueryResult<Vec<Change>> {
    let actions: Vec<&str> = CHANGES.iter().map(|a| a.as_str()).collect();
    let entities: Vec<&str> = entities
        .iter()
        .filter(|e| ENTITIES.contains(e))
        .map(|e| e.as_str())
        .collect();
    diesel::sql_query(
        "SELECT c.position, e.entity_type, e.entity_id, e.action, e.child_id, e.occurred_at
           FROM audit_chain c JOIN audit_events e ON e.seq = c.event_seq
          WHERE c.position > $1 AND c.position <= $2
            AND e.outcome = 'success' AND NOT e.child_protected
            AND e.action = ANY($3) AND e.entity_type = ANY($4)
            AND ($6::uuid[] IS NULL OR e.child_id IS NULL OR e.child_unit_id = ANY($6))
          ORDER BY c.position
          LIMIT $5",
    )
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(through)
    .bind::<Array<Text>, _>(actions)
    .bind::<Array<Text>, _>(entities)
    .bind::<BigInt, _>(limit)
    .bind::<Nullable<Array<SqlUuid>>, _>(units)
    .load(conn)
}
