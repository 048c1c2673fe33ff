//! `units`: the organisational units of social services. Anyone signed in, person or system,
//! may read them; only system administrators create and change them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::store::{self, validate_name, UnitRow};
use super::view::UnitView;
use crate::access::work::allowed;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::http::etag::{created, required_version, tagged};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::Action;
use crate::state::AppState;

fn tagged_unit(status: StatusCode, row: UnitRow) -> HttpResponse {
    let (id, version) = (row.id, row.version);
    tagged(status, id, version, &UnitView::from(row))
}

/// Units are no personal data: one `list` event records the read of a page.
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (action, audit_action) = (Action::ReadUnits, AuditAction::List);
    let paged = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Unit,
        None,
        move |conn, work| {
            let page = query.parse()?;
            let paged = Paged::from_rows(store::list(conn, page)?, page, |u| u.id);
            let event = work
                .actor
                .event(AuditAction::List, EntityType::Unit, None, work.at.now);
            audit::append(conn, &[event])?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(UnitView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    name: String,
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateUnit>,
) -> AppResult<HttpResponse> {
    let (action, audit_action) = (Action::ManageUnits, AuditAction::Create);
    let row = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Unit,
        None,
        move |conn, work| {
            let name = validate_name(&body.name).map_err(|e| AppError::unprocessable(vec![e]))?;
            let id = Uuid::now_v7();
            let event = work
                .actor
                .event(AuditAction::Create, EntityType::Unit, Some(id), work.at.now)
                .changed(["name", "active"]);
            let row = store::create(conn, id, &name, event.id, work.at.now)?;
            audit::append(conn, &[event])?;
            Ok(row)
        },
    )
    .await?;
    let location = format!("/api/v1/units/{}", row.id);
    Ok(created(location, row.id, &UnitView::from(row)))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = *path;
    let (action, audit_action) = (Action::ReadUnits, AuditAction::Read);
    let row = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Unit,
        Some(id),
        move |conn, work| {
            let row = store::find(conn, id)?.ok_or(AppError::NotFound)?;
            let event =
                work.actor
                    .event(AuditAction::Read, EntityType::Unit, Some(id), work.at.now);
            audit::append(conn, &[event])?;
            Ok(row)
        },
    )
    .await?;
    Ok(tagged_unit(StatusCode::OK, row))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnit {
    name: Option<String>,
    active: Option<bool>,
}

pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateUnit>,
) -> AppResult<HttpResponse> {
    let id = *path;
    // Asked for only once the caller is known to be allowed: a refusal comes first.
    let expected_version = required_version(&req, id);
    let (action, audit_action) = (Action::ManageUnits, AuditAction::Update);
    let row = allowed(
        &state,
        actor,
        action,
        audit_action,
        EntityType::Unit,
        Some(id),
        move |conn, work| {
            let expected_version = expected_version?;
            let name = body.name.as_deref().map(validate_name).transpose();
            let name = name.map_err(|e| AppError::unprocessable(vec![e]))?;
            let current = store::find_for_update(conn, id)?.ok_or(AppError::NotFound)?;
            if current.version != expected_version {
                return Err(AppError::stale_version().into());
            }
            let name = name.unwrap_or_else(|| current.name.clone());
            let active = body.active.unwrap_or(current.active);
            let differs = [
                (name != current.name, "name"),
                (active != current.active, "active"),
            ];
            let changed = differs.iter().filter(|(d, _)| *d).map(|(_, f)| *f);
            let event = work
                .actor
                .event(AuditAction::Update, EntityType::Unit, Some(id), work.at.now)
                .changed(changed);
            let row = store::update(conn, id, &name, active, event.id, work.at.now)?;
            audit::append(conn, &[event])?;
            Ok(row)
        },
    )
    .await?;
    Ok(tagged_unit(StatusCode::OK, row))
}
