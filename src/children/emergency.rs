//! "Break the glass": a secretary or manager opens a child outside her reach for a limited
//! time, giving a reason the auditor sees. Read only; never in a list.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::store::{self, EmergencyGrant};
use crate::access::child::AboutChild;
use crate::access::refuse;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::clock::Moment;
use crate::error::{AppError, AppResult};
use crate::http::ApiJson;
use crate::policy::child::may_request_emergency_access;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyRequest {
    reason: String,
}

#[derive(Serialize)]
struct EmergencyAccess {
    child_id: Uuid,
    expires_at: DateTime<Utc>,
}

/// "Break the glass": a secretary or manager opens a child outside her reach for a limited
/// time, giving a reason that the auditor sees.
pub async fn request(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<EmergencyRequest>,
) -> AppResult<HttpResponse> {
    let id = *path;
    let at = Moment::of(state.clock.as_ref());
    let minutes = state.settings.rules.on(at.today).emergency_access_minutes;
    let expires_at = at.now + Duration::minutes(i64::from(minutes));
    state
        .db
        .audited(move |conn| {
            let child = crate::db::children::find(conn, id)?;
            let mut event = actor.event(
                AuditAction::EmergencyAccess,
                EntityType::Child,
                Some(id),
                at.now,
            );
            if let Some(child) = &child {
                // Refusals too name the child, so an auditor filtering by child finds them.
                event = event.about(child);
            }
            let Some(user_id) = actor
                .user_id()
                .filter(|_| may_request_emergency_access(&actor))
            else {
                let message = "only social secretaries and unit managers may use emergency access";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            };
            let reason = body.reason.trim();
            if !(10..=2000).contains(&reason.chars().count()) {
                return Err(AppError::rule("reason", "say why, in 10 to 2000 characters").into());
            }
            child.ok_or(AppError::NotFound)?;
            let event = event.purpose(reason);
            let grant = EmergencyGrant {
                user_id,
                child_id: id,
                reason,
                expires_at,
            };
            store::grant_emergency_access(conn, grant, at.now, event.id)?;
            audit::append(conn, &[event])?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(EmergencyAccess {
        child_id: id,
        expires_at,
    }))
}
