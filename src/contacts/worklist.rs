//! `GET /api/v1/me/worklist`: the contacts due and overdue for the caller's children, overdue
//! first. A secretary sees the schedules she keeps, home staff those of the children living
//! where they work today, a unit manager every schedule of her unit. A fixed number of queries,
//! however many children.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::decisions;
use super::store::ScheduleRow;
use crate::access::child::AboutChild;
use crate::access::refuse;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::db::children;
use crate::db::claim_deadlines::{self, ClaimDue};
use crate::db::contact_schedules::due_by;
use crate::db::reach::{self, Reach};
use crate::db::Stop;
use crate::domain::contact::ContactKind;
use crate::error::{AppError, AppResult};
use crate::http::ApiQuery;
use crate::policy::worklist::reach_of;
use crate::policy::{self, Action};
use crate::rules::Rules;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklistQuery {
    /// Contacts due up to this day (default: two weeks from today); overdue ones always.
    #[serde(default, with = "crate::http::date::option")]
    until: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
struct Item {
    child_id: Uuid,
    schedule_id: Uuid,
    kind: ContactKind,
    due_on: NaiveDate,
    late_after: NaiveDate,
    overdue: bool,
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    query: ApiQuery<WorklistQuery>,
) -> AppResult<HttpResponse> {
    let at = Moment::of(state.clock.as_ref());
    let until = query.until.unwrap_or(at.today + Duration::days(14));
    let rules = state.settings.rules.clone();
    let (items, decisions, to_review, alerts, claims) = state
        .db
        .audited(move |conn| {
            let Some(reach) = reach_of(&actor.principal) else {
                return claims_only(conn, &actor, &rules, at);
            };
            let rows = reach::schedules(conn, reach, at.today)?;
            let (mut items, mut events) = listed(conn, &actor, rows, until, at)?;
            items.sort_by_key(|i| (!i.overdue, i.due_on, i.schedule_id));
            let children = in_reach(conn, reach, at.today)?;
            let set = rules.on(at.today);
            let (decisions, read) = decisions::due(conn, &actor, &children, set, until, at)?;
            events.extend(read);
            let (to_review, read) = decisions::to_review(conn, &actor, &children, &rules, at)?;
            events.extend(read);
            let (alerts, read) = decisions::alerts(conn, &actor, &children, &rules, at)?;
            events.extend(read);
            audit::append(conn, &events)?;
            Ok((items, decisions, to_review, alerts, Vec::new()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "items": items,
        "decisions": decisions,
        "placements_to_review": to_review,
        "alerts": alerts,
        "claims_due": claims,
    })))
}

type Worklist = (
    Vec<Item>,
    Vec<decisions::DecisionItem>,
    Vec<decisions::PlacementToReview>,
    Vec<crate::db::age_out_alerts::Alert>,
    Vec<ClaimDue>,
);

/// An administrator's worklist holds the quarters whose state reimbursement claim is near its
/// deadline and not sent; everyone else without a case load is refused.
fn claims_only(
    conn: &mut PgConnection,
    actor: &Actor,
    rules: &Rules,
    at: Moment,
) -> Result<Worklist, Stop> {
    if !policy::allows(actor, Action::ManageReimbursementClaims) {
        let event = actor.event(AuditAction::List, EntityType::ContactSchedule, None, at.now);
        let message = "only the people of a case, and administrators, have a worklist";
        return Err(refuse(conn, event, AppError::forbidden(message)));
    }
    let claims = claim_deadlines::near(conn, rules, at.today)?;
    let event = actor.event(AuditAction::List, EntityType::ContactSchedule, None, at.now);
    audit::append(conn, &[event])?;
    Ok((Vec::new(), Vec::new(), Vec::new(), Vec::new(), claims))
}

/// The children in `reach`, by id.
fn in_reach(
    conn: &mut PgConnection,
    reach: Reach,
    today: NaiveDate,
) -> QueryResult<HashMap<Uuid, children::ChildRow>> {
    let ids = reach::children(conn, reach, today)?;
    Ok(children::find_many(conn, &ids)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// The items due by `until` (and every overdue one) among `rows`, and the events of the look.
fn listed(
    conn: &mut PgConnection,
    actor: &Actor,
    rows: Vec<ScheduleRow>,
    until: NaiveDate,
    at: Moment,
) -> QueryResult<(Vec<Item>, Vec<crate::audit::AuditEvent>)> {
    let due = due_by(conn, rows, at.today, until)?;
    let child_ids: Vec<Uuid> = due.iter().map(|(r, _)| r.child_id).collect();
    let kids: std::collections::HashMap<Uuid, children::ChildRow> =
        children::find_many(conn, &child_ids)?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let mut items = Vec::new();
    // The look at the worklist itself, and a read of each schedule it shows.
    let mut events =
        vec![actor.event(AuditAction::List, EntityType::ContactSchedule, None, at.now)];
    for (row, due) in due {
        let mut event = actor.event(
            AuditAction::Read,
            EntityType::ContactSchedule,
            Some(row.id),
            at.now,
        );
        if let Some(child) = kids.get(&row.child_id) {
            event = event.about(child);
        }
        events.push(event);
        items.push(Item {
            child_id: row.child_id,
            schedule_id: row.id,
            kind: row.kind,
            due_on: due.due_on,
            late_after: due.late_after,
            overdue: due.overdue,
        });
    }
    Ok((items, events))
}
