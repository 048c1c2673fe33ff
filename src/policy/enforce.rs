//! Enforcement: a refused attempt is itself an audit event (outcome `denied`) and changes
//! nothing else.

use uuid::Uuid;

use super::{allows, Action};
use crate::audit::{self, AuditAction, EntityType, Outcome};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn authorize(
    state: &AppState,
    actor: &Actor,
    action: Action,
    audit_action: AuditAction,
    entity_type: EntityType,
    entity_id: Option<Uuid>,
) -> AppResult<()> {
    if allows(actor, action) {
        return Ok(());
    }
    let event = actor
        .event(audit_action, entity_type, entity_id, state.clock.now())
        .outcome(Outcome::Denied);
    state
        .db
        .transaction(move |conn| audit::append(conn, &[event]))
        .await?;
    Err(AppError::forbidden(
        "your profession or scope does not allow this",
    ))
}
