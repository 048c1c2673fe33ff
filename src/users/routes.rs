//! `users`: accounts, managed by system administrators (who see no case data). Each handler:
//! parse → check the action (access layer) → store → view.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use uuid::Uuid;

use super::input::{CreateUser, UpdateUser};
use super::store;
use super::view::{shown, UserView};
use crate::access::work::{self, Work};
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::auth::feed;
use crate::auth::login::unlock_account;
use crate::auth::password::hash_password;
use crate::auth::session::revoke_all_of_user;
use crate::db::Stop;
use crate::error::{AppError, AppResult};
use crate::http::etag::{created, required_version};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::Action;
use crate::state::AppState;

/// Runs `work` if the caller may manage users (else a `denied` event about the user and 403).
async fn managing<T, F>(
    state: &AppState,
    actor: Actor,
    action: AuditAction,
    id: impl Into<Option<Uuid>>,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, Work) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    work::allowed(
        state,
        actor,
        Action::ManageUsers,
        action,
        EntityType::User,
        id.into(),
        work,
    )
    .await
}

/// 422 unless `unit_id` is an active unit.
fn require_open_unit(conn: &mut PgConnection, unit_id: Uuid) -> AppResult<()> {
    if crate::db::units::is_open(conn, unit_id)? {
        Ok(())
    } else {
        Err(AppError::rule("unit_id", "no such active unit"))
    }
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse();
    let paged = managing(&state, actor, AuditAction::List, None, move |conn, work| {
        let page = page?;
        let paged = Paged::from_rows(store::list(conn, page)?, page, |u| u.id);
        let events: Vec<_> = paged
            .items
            .iter()
            .map(|u| work.event(AuditAction::Read, EntityType::User, Some(u.id)))
            .collect();
        audit::append(conn, &events)?;
        Ok(paged)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(UserView::from)))
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<HttpResponse> {
    let row = managing(&state, actor, AuditAction::Create, None, |conn, work| {
        let (new_user, password) = body.validate()?;
        if let Some(unit_id) = new_user.unit_id {
            require_open_unit(conn, unit_id)?;
        }
        let hash = hash_password(&password).map_err(AppError::internal)?;
        let event = work.event(AuditAction::Create, EntityType::User, None);
        let row = store::insert(conn, &new_user, &hash, event.id, work.at.now)?;
        let fields = [
            "username",
            "display_name",
            "profession",
            "unit_id",
            "password",
        ];
        let event = audit::AuditEvent {
            entity_id: Some(row.id),
            ..event
        };
        audit::append(conn, &[event.changed(fields)])?;
        Ok(row)
    })
    .await?;
    let location = format!("/api/v1/users/{}", row.id);
    Ok(created(location, row.id, &UserView::from(row)))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let row = managing(&state, actor, AuditAction::Read, id, move |conn, work| {
        let row = store::find(conn, id)?.ok_or(AppError::NotFound)?;
        audit::append(
            conn,
            &[work.event(AuditAction::Read, EntityType::User, Some(id))],
        )?;
        Ok(row)
    })
    .await?;
    Ok(shown(row))
}

/// Changes an account. A new profession or unit ends her caseload, her facilities and her
/// sessions; deactivation ends her sessions.
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let expected_version = required_version(&req, id);
    let row = managing(&state, actor, AuditAction::Update, id, move |conn, work| {
        let (expected_version, change) = (expected_version?, body.validate()?);
        let current = store::lock(conn, id)?.ok_or(AppError::NotFound)?;
        if current.version != expected_version {
            return Err(AppError::stale_version().into());
        }
        let was = current.fields();
        let next = change.applied_to(&was)?;
        if let Some(unit_id) = next.unit_id.filter(|u| Some(*u) != was.unit_id) {
            require_open_unit(conn, unit_id)?;
        }
        let mut changed = next.changed_from(&was);
        if next.moves(&was) && store::end_assignments(conn, id)? > 0 {
            changed.push("assignments");
        }
        let event = work
            .event(AuditAction::Update, EntityType::User, Some(id))
            .changed(changed);
        let row = store::update(conn, id, current.version, &next, event.id, work.at.now)?
            .ok_or_else(AppError::stale_version)?;
        if let Some(reason) = next.ends_sessions(&was) {
            revoke_all_of_user(conn, id, reason, None, work.at.now)?;
            // Her feed showed what her old profession or unit reached; it ends with the change.
            feed::end_live(conn, id, reason.into(), work.at.now, event.id)?;
        }
        audit::append(conn, &[event])?;
        Ok(row)
    })
    .await?;
    Ok(shown(row))
}

/// Lifts a hard lock after too many failed logins.
pub async fn unlock(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    managing(&state, actor, AuditAction::Unlock, id, move |conn, work| {
        let user = store::find(conn, id)?.ok_or(AppError::NotFound)?;
        unlock_account(conn, &user.username)?;
        let event = work.event(AuditAction::Unlock, EntityType::User, Some(id));
        Ok(audit::append(conn, &[event])?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
