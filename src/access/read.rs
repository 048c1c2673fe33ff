//! Reading one record and logging the read in the same transaction: no data leaves without its
//! event, and an unknown id is 404.

use diesel::pg::PgConnection;
use uuid::Uuid;

use crate::audit::{append, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn read_one<T, F>(
    state: &AppState,
    actor: Actor,
    entity_type: EntityType,
    id: Uuid,
    find: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, Uuid) -> AppResult<Option<T>> + Send + 'static,
    T: Send + 'static,
{
    let now = state.clock.now();
    state
        .db
        .transaction(move |conn| {
            let row = find(conn, id)?.ok_or(AppError::NotFound)?;
            append(
                conn,
                &[actor.event(AuditAction::Read, entity_type, Some(id), now)],
            )?;
            Ok(row)
        })
        .await
}
