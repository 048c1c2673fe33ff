//! `service-accounts`: other systems' logins, managed by system administrators.
//!
//! A secret is generated here, shown in the one answer that creates it, and stored only as an
//! argon2 hash (computed inside the database closure, on the blocking pool). Deactivating an
//! account, narrowing its scopes or rotating its secret ends its live sessions at once.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::store::{
    self, new_client_secret, validate_client_id, validate_name, validate_scopes, NewServiceAccount,
    ServiceAccountRow,
};
use super::view::{ServiceAccountView, WithSecretView};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::auth::password::hash_password;
use crate::auth::session::revoke_all_of_service;
use crate::db::schema::service_accounts;
use crate::error::{AppError, AppResult};
use crate::http::etag::{etag, required_version};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::enforce::authorize;
use crate::policy::{Action, Scope};
use crate::state::AppState;

fn with_etag(row: &ServiceAccountRow, response: &mut HttpResponseBuilder) {
    response.insert_header((header::ETAG, etag(row.id, row.version)));
}

/// An answer carrying a secret must not be kept by any cache on the way.
fn with_secret(
    response: &mut HttpResponseBuilder,
    row: ServiceAccountRow,
    secret: String,
) -> HttpResponse {
    with_etag(&row, response);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response.json(WithSecretView {
        account: ServiceAccountView::from(row),
        client_secret: secret,
    })
}

async fn allowed(
    state: &AppState,
    actor: &Actor,
    action: AuditAction,
    id: Option<Uuid>,
) -> AppResult<()> {
    authorize(
        state,
        actor,
        Action::ManageServiceAccounts,
        action,
        EntityType::ServiceAccount,
        id,
    )
    .await
}

/// Ends the account's live sessions, and records that it did when there were any.
fn end_sessions(
    conn: &mut diesel::PgConnection,
    actor: &Actor,
    id: Uuid,
    why: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<AuditEvent>> {
    let ended = revoke_all_of_service(conn, id, now)?;
    Ok((ended > 0).then(|| {
        actor
            .event(
                AuditAction::Revoke,
                EntityType::ServiceAccount,
                Some(id),
                now,
            )
            .purpose(format!("{ended} session(s) ended: {why}"))
    }))
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    allowed(&state, &actor, AuditAction::List, None).await?;
    let page = query.parse()?;
    let now = state.clock.now();
    let paged = state
        .db
        .transaction(move |conn| {
            let paged = Paged::from_rows(store::list(conn, page)?, page, |a| a.id);
            let events: Vec<_> = paged
                .items
                .iter()
                .map(|a| {
                    actor.event(
                        AuditAction::Read,
                        EntityType::ServiceAccount,
                        Some(a.id),
                        now,
                    )
                })
                .collect();
            audit::append(conn, &events)?;
            Ok(paged)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged.map(ServiceAccountView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccount {
    client_id: String,
    name: String,
    /// Unknown scope names are refused while parsing (400 naming `scopes[i]`).
    scopes: Vec<Scope>,
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateServiceAccount>,
) -> AppResult<HttpResponse> {
    allowed(&state, &actor, AuditAction::Create, None).await?;
    let mut errors = Vec::new();
    let client_id = validate_client_id(&body.client_id)
        .map_err(|e| errors.push(e))
        .ok();
    let name = validate_name(&body.name).map_err(|e| errors.push(e)).ok();
    let scopes = validate_scopes(body.scopes)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(client_id), Some(name), Some(scopes)) = (client_id, name, scopes) else {
        return Err(AppError::unprocessable(errors));
    };
    let account = NewServiceAccount {
        client_id,
        name,
        scopes,
    };
    let secret = new_client_secret();
    let to_hash = secret.clone();
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            let hash = hash_password(&to_hash).map_err(AppError::internal)?;
            let event = actor.event(AuditAction::Create, EntityType::ServiceAccount, None, now);
            let row = store::insert(conn, &account, &hash, event.id, now)?;
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..event
            }
            .changed(["client_id", "name", "scopes", "client_secret"]);
            audit::append(conn, &[event])?;
            Ok(row)
        })
        .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((
        header::LOCATION,
        format!("/api/v1/service-accounts/{}", row.id),
    ));
    Ok(with_secret(&mut response, row, secret))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    allowed(&state, &actor, AuditAction::Read, Some(id)).await?;
    let row =
        crate::access::read::read_one(&state, actor, EntityType::ServiceAccount, id, store::find)
            .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(ServiceAccountView::from(row)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateServiceAccount {
    name: Option<String>,
    scopes: Option<Vec<Scope>>,
    active: Option<bool>,
}

pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateServiceAccount>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    allowed(&state, &actor, AuditAction::Update, Some(id)).await?;
    let expected_version = required_version(&req, id)?;
    let mut errors = Vec::new();
    let name = body
        .name
        .as_deref()
        .map(validate_name)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let scopes = body
        .scopes
        .map(validate_scopes)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(AppError::unprocessable(errors));
    }
    let now = state.clock.now();
    let stale_account = AppError::stale_version;
    let row = state
        .db
        .transaction(move |conn| {
            // Locked against other writers, so the changes are worked out from the row they
            // replace (sessions that refer to the account may still be opened meanwhile).
            let current = service_accounts::table
                .find(id)
                .select(ServiceAccountRow::as_select())
                .for_no_key_update()
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            if current.version != expected_version {
                return Err(stale_account());
            }
            let granted = current.granted();
            let name = name.unwrap_or_else(|| current.name.clone());
            let scopes = scopes.unwrap_or_else(|| granted.clone());
            let active = body.active.unwrap_or(current.active);
            let mut changed = Vec::new();
            if name != current.name {
                changed.push("name");
            }
            if scopes != granted {
                changed.push("scopes");
            }
            if active != current.active {
                changed.push("active");
            }
            let event = actor
                .event(
                    AuditAction::Update,
                    EntityType::ServiceAccount,
                    Some(id),
                    now,
                )
                .changed(changed.iter().copied());
            let row = store::update(
                conn,
                id,
                current.version,
                store::Changes {
                    name: &name,
                    scopes: &scopes,
                    active,
                },
                event.id,
                now,
            )?
            .ok_or_else(stale_account)?;
            // Sessions read the scopes on every request, but a token's `scope` would still
            // promise the old ones: a system that lost a scope, or was switched off, starts over.
            let narrowed = granted.iter().any(|s| !scopes.contains(s));
            let why = if !active {
                Some("deactivated")
            } else if narrowed {
                Some("scopes narrowed")
            } else {
                None
            };
            let mut events = vec![event];
            if let Some(why) = why {
                events.extend(end_sessions(conn, &actor, id, why, now)?);
            }
            audit::append(conn, &events)?;
            Ok(row)
        })
        .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(ServiceAccountView::from(row)))
}

/// Replaces the secret: the new one is shown once, the old one stops working, and the
/// account's live sessions end.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    allowed(&state, &actor, AuditAction::Update, Some(id)).await?;
    let secret = new_client_secret();
    let to_hash = secret.clone();
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            if store::find(conn, id)?.is_none() {
                return Err(AppError::NotFound);
            }
            let hash = hash_password(&to_hash).map_err(AppError::internal)?;
            let event = actor
                .event(
                    AuditAction::Update,
                    EntityType::ServiceAccount,
                    Some(id),
                    now,
                )
                .changed(["client_secret"]);
            let row =
                store::set_secret(conn, id, &hash, event.id, now)?.ok_or(AppError::NotFound)?;
            // A new secret clears the failed logins, so a stranger cannot lock a system out for good.
            crate::auth::login::unlock_account(
                conn,
                &crate::auth::login::client_key(&row.client_id),
            )?;
            let mut events = vec![event];
            events.extend(end_sessions(conn, &actor, id, "secret rotated", now)?);
            audit::append(conn, &events)?;
            Ok(row)
        })
        .await?;
    Ok(with_secret(&mut HttpResponse::Ok(), row, secret))
}
