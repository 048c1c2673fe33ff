//! `GET /api/v1/units/{id}/age-out-alerts`: the unit manager's list of the youths of her unit
//! who risk leaving care unprepared (`db::age_out_alerts`); the same alerts stand in the
//! worklists of the youths' secretaries. Each child alerted about is a read of her.

use std::collections::{BTreeSet, HashMap};

use actix_web::{web, HttpResponse};
use uuid::Uuid;

use crate::access::child::AboutChild;
use crate::access::refuse;
use crate::access::work::allowed;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::db::age_out_alerts;
use crate::db::children;
use crate::db::reach::{self, Reach};
use crate::error::{AppError, AppResult};
use crate::policy::child::is_unit_manager_of;
use crate::policy::Action;
use crate::state::AppState;

pub async fn of_unit(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let unit = *path;
    let (action, audit_action) = (Action::ReadAgeOutAlerts, AuditAction::List);
    let alerts = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Child,
        None,
        move |conn, work| {
            let event = work.event(AuditAction::List, EntityType::Child, None);
            if !is_unit_manager_of(&work.actor, unit) {
                let message = "a unit manager sees the alerts of her own unit only";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            }
            let ids = reach::children(conn, Reach::Unit(unit), work.at.today)?;
            let kids: HashMap<Uuid, children::ChildRow> = children::find_many(conn, &ids)?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
            let rules = &work.settings.rules;
            let alerts = age_out_alerts::of_children(conn, &kids, rules, work.at.today)?;
            let alerted: BTreeSet<Uuid> = alerts.iter().map(|a| a.child_id).collect();
            let mut events = vec![event];
            events.extend(alerted.iter().filter_map(|id| kids.get(id)).map(|child| {
                work.event(AuditAction::Read, EntityType::Child, Some(child.id))
                    .about(child)
            }));
            audit::append(conn, &events)?;
            Ok(alerts)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": alerts })))
}
