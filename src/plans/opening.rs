//! Reaching a goal by its own id: learn its child, open the child (the access layer decides and
//! writes a refusal's event), then read the goal again, locked when the action writes.

use diesel::pg::PgConnection;
use uuid::Uuid;

use super::store::{self, GoalRow};
use crate::access::child::{self as child_access, OpenChild};
use crate::access::work::ChildWork;
use crate::audit::{AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::Stop;
use crate::error::AppResult;
use crate::policy::child::ChildAction;
use crate::state::AppState;

/// Runs `work` on goal `id` and its opened child, in one audited transaction.
pub async fn on_goal<T, F>(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    action: ChildAction,
    audit_action: AuditAction,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, ChildWork, GoalRow) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    state
        .db
        .audited(move |conn| {
            let entity = EntityType::AgeOutGoal;
            let Some(child_id) = store::find_goal(conn, id)?.map(|g| g.child_id) else {
                return child_access::unknown(conn, &actor, action, audit_action, entity, id, at);
            };
            let OpenChild { child, audience } =
                child_access::open(conn, &actor, child_id, action, audit_action, at)?;
            let row = if action.writes() {
                store::find_goal_for_update(conn, id)?
            } else {
                store::find_goal(conn, id)?
            };
            let Some(row) = row else {
                return child_access::unknown(conn, &actor, action, audit_action, entity, id, at);
            };
            let work_at = ChildWork {
                actor,
                child,
                audience,
                at,
                settings,
            };
            work(conn, work_at, row)
        })
        .await
}
