//! Opening data for an actor: the policy (`policy/`) decides; this layer looks up the facts it
//! decides on, writes the `denied` event of a refusal in the same transaction, and hands a
//! feature only what it may use. Features call it; they never build a denied event themselves.

pub mod child;
pub mod read;
pub mod work;

use diesel::pg::PgConnection;
use uuid::Uuid;

use crate::audit::{self, AuditAction, AuditEvent, EntityType, Outcome};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::Stop;
use crate::error::AppError;
use crate::policy::{allows, Action};

/// Records `event` as a refused attempt and returns the refusal, for [`Db::audited`] to commit
/// the event and answer with `error`. If the event cannot be written, nothing commits.
///
/// [`Db::audited`]: crate::db::Db::audited
pub fn refuse(conn: &mut PgConnection, event: AuditEvent, error: AppError) -> Stop {
    match audit::append(conn, &[event.outcome(Outcome::Denied)]) {
        Ok(()) => Stop::Refuse(error),
        Err(failure) => Stop::Abort(failure),
    }
}

/// `Ok` when the policy allows `action`; else the refusal (403: these actions concern no child,
/// so existence is no secret) with its `denied` event about `entity_type`/`entity_id`.
pub fn require(
    conn: &mut PgConnection,
    actor: &Actor,
    action: Action,
    audit_action: AuditAction,
    entity_type: EntityType,
    entity_id: Option<Uuid>,
    at: Moment,
) -> Result<(), Stop> {
    if allows(actor, action) {
        return Ok(());
    }
    let event = actor.event(audit_action, entity_type, entity_id, at.now);
    Err(refuse(conn, event, not_allowed()))
}

/// The refusal of an action the caller's profession or scope does not allow at all.
pub fn not_allowed() -> AppError {
    AppError::forbidden("your profession or scope does not allow this")
}
