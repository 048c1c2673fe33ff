//! `units`: the organisational units of social services. Anyone signed in, person or system,
//! may read them; only system administrators create and change them.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Deserialize;
use uuid::Uuid;

use super::store::{self, validate_name, UnitRow};
use super::view::UnitView;
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::http::etag::{etag, required_version};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::enforce::authorize;
use crate::policy::Action;
use crate::state::AppState;

fn with_etag(row: &UnitRow, response: &mut HttpResponseBuilder) {
    response.insert_header((header::ETAG, etag(row.id, row.version)));
}

async fn allowed(
    state: &AppState,
    actor: &Actor,
    action: Action,
    audit_action: AuditAction,
    id: Option<Uuid>,
) -> AppResult<()> {
    authorize(state, actor, action, audit_action, EntityType::Unit, id).await
}

/// Units are no personal data: one `list` event records the read of a page.
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    allowed(&state, &actor, Action::ReadUnits, AuditAction::List, None).await?;
    let page = query.parse()?;
    let now = state.clock.now();
    let paged = state
        .db
        .transaction(move |conn| {
            let paged = Paged::from_rows(store::list(conn, page)?, page, |u| u.id);
            audit::append(
                conn,
                &[actor.event(AuditAction::List, EntityType::Unit, None, now)],
            )?;
            Ok(paged)
        })
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
    allowed(
        &state,
        &actor,
        Action::ManageUnits,
        AuditAction::Create,
        None,
    )
    .await?;
    let name = validate_name(&body.name).map_err(|e| AppError::unprocessable(vec![e]))?;
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            let event = actor.event(AuditAction::Create, EntityType::Unit, None, now);
            let row = store::create(conn, &name, event.id, now)?;
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..event
            }
            .changed(["name", "active"]);
            audit::append(conn, &[event])?;
            Ok(row)
        })
        .await?;
    let mut response = HttpResponse::Created();
    with_etag(&row, &mut response);
    response.insert_header((header::LOCATION, format!("/api/v1/units/{}", row.id)));
    Ok(response.json(UnitView::from(row)))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    allowed(
        &state,
        &actor,
        Action::ReadUnits,
        AuditAction::Read,
        Some(id),
    )
    .await?;
    let row =
        crate::access::read::read_one(&state, actor, EntityType::Unit, id, store::find).await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(UnitView::from(row)))
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
    let id = path.into_inner();
    allowed(
        &state,
        &actor,
        Action::ManageUnits,
        AuditAction::Update,
        Some(id),
    )
    .await?;
    let expected_version = required_version(&req, id)?;
    let name = body
        .name
        .as_deref()
        .map(validate_name)
        .transpose()
        .map_err(|e| AppError::unprocessable(vec![e]))?;
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            let current = store::find_for_update(conn, id)?.ok_or(AppError::NotFound)?;
            if current.version != expected_version {
                return Err(AppError::stale_version());
            }
            let name = name.unwrap_or_else(|| current.name.clone());
            let active = body.active.unwrap_or(current.active);
            let mut changed = Vec::new();
            if name != current.name {
                changed.push("name");
            }
            if active != current.active {
                changed.push("active");
            }
            let event = actor
                .event(AuditAction::Update, EntityType::Unit, Some(id), now)
                .changed(changed);
            let row = store::update(conn, id, &name, active, event.id, now)?;
            audit::append(conn, &[event])?;
            Ok(row)
        })
        .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(UnitView::from(row)))
}
