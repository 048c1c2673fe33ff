//! Opening a placement for a caller (through its child, in the access layer) and showing
//! placements to her: what every placement handler starts and ends with.

use diesel::pg::PgConnection;
use uuid::Uuid;

use super::store::{self, PlacementRow};
use super::view::{placement_view, PlacementView};
use crate::access::child::{self as child_access, OpenChild};
use crate::access::work::ChildWork;
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::Stop;
use crate::error::AppResult;
use crate::policy::child::{Audience, ChildAction};
use crate::state::AppState;

/// The views of `rows`, all of one child, shaped for the caller: one query for their reviews,
/// whatever their number.
pub fn views_of(
    conn: &mut PgConnection,
    work: &ChildWork,
    rows: Vec<PlacementRow>,
) -> Result<Vec<PlacementView>, Stop> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let reviews = store::reviews_of(conn, &ids)?;
    let child = &work.child;
    let show_facility =
        !child.protection_level.is_protected() || work.audience.sees_protected_fields();
    let show_reasons = work.audience != Audience::System;
    Ok(rows
        .into_iter()
        .map(|row| {
            let reviews = reviews.get(&row.id).copied().unwrap_or_default();
            let (today, rules) = (work.at.today, work.rules());
            placement_view(
                row,
                reviews,
                rules,
                child.date_of_birth,
                today,
                show_facility,
                show_reasons,
            )
        })
        .collect())
}

/// Writes `events` and shows `row`: how every placement handler ends.
pub fn finish(
    conn: &mut PgConnection,
    work: &ChildWork,
    row: PlacementRow,
    events: &[AuditEvent],
) -> Result<PlacementView, Stop> {
    let view = views_of(conn, work, vec![row])?.remove(0);
    audit::append(conn, events)?;
    Ok(view)
}

/// Runs `work` on a placement and its opened child. The child is opened (and for a write,
/// locked) first and the placement read again, locked, after it: what the caller checks is what
/// she changes, not a row another request changed while this one waited for the lock.
pub async fn on_placement<T, F>(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    action: ChildAction,
    audit_action: AuditAction,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, ChildWork, PlacementRow) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    state
        .db
        .audited(move |conn| {
            let unknown = |conn: &mut PgConnection| {
                let entity = EntityType::Placement;
                child_access::unknown(conn, &actor, action, audit_action, entity, id, at)
            };
            // Only to learn the child: a placement never changes child.
            let Some(child_id) = store::find(conn, id)?.map(|row| row.child_id) else {
                return unknown(conn);
            };
            let OpenChild { child, audience } =
                child_access::open(conn, &actor, child_id, action, audit_action, at)?;
            let Some(row) = store::find_for_update(conn, id)? else {
                return unknown(conn);
            };
            let work_on = ChildWork {
                actor,
                child,
                audience,
                at,
                settings,
            };
            work(conn, work_on, row)
        })
        .await
}
