//! `service-accounts`: other systems' logins, managed by system administrators. Each handler:
//! parse → check the action (access layer) → store → view.
//!
//! A secret is generated here, shown in the one answer that creates it, and stored only as an
//! argon2 hash (computed inside the database closure, on the blocking pool). Deactivating an
//! account, narrowing its scopes or rotating its secret ends its live sessions at once.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::pg::PgConnection;
use uuid::Uuid;

use super::input::{CreateServiceAccount, UpdateServiceAccount};
use super::store::{self, new_client_secret};
use super::view::{registered, rotated, shown, ServiceAccountView};
use crate::access::work::{self, Work};
use crate::audit::{self, AuditAction, AuditEvent, EntityType};
use crate::auth::actor::Actor;
use crate::auth::login::{client_key, unlock_account};
use crate::auth::password::hash_password;
use crate::auth::session::revoke_all_of_service;
use crate::db::Stop;
use crate::error::{AppError, AppResult};
use crate::http::etag::required_version;
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::Action;
use crate::state::AppState;

/// Runs `work` if the caller may manage service accounts (else a `denied` event about the
/// account and 403).
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
        Action::ManageServiceAccounts,
        action,
        EntityType::ServiceAccount,
        id.into(),
        work,
    )
    .await
}

/// A unit granted must be one: 422 naming `unit_ids` otherwise (the database's trigger says the
/// same, as a last line).
fn granted_units_exist(conn: &mut PgConnection, units: Option<&[Uuid]>) -> AppResult<()> {
    match units {
        Some(units) if !crate::db::units::all_exist(conn, units)? => Err(AppError::rule(
            "unit_ids",
            "names a unit that does not exist",
        )),
        _ => Ok(()),
    }
}

/// Ends the account's live sessions, and records that it did when there were any.
fn end_sessions(
    conn: &mut PgConnection,
    work: &Work,
    id: Uuid,
    why: &str,
) -> AppResult<Option<AuditEvent>> {
    let ended = revoke_all_of_service(conn, id, work.at.now)?;
    Ok((ended > 0).then(|| {
        work.event(AuditAction::Revoke, EntityType::ServiceAccount, Some(id))
            .purpose(format!("{ended} session(s) ended: {why}"))
    }))
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse();
    let paged = managing(&state, actor, AuditAction::List, None, move |conn, work| {
        let page = page?;
        let paged = Paged::from_rows(store::list(conn, page)?, page, |a| a.id);
        let events: Vec<_> = paged
            .items
            .iter()
            .map(|a| work.event(AuditAction::Read, EntityType::ServiceAccount, Some(a.id)))
            .collect();
        audit::append(conn, &events)?;
        Ok(paged)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(ServiceAccountView::from)))
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateServiceAccount>,
) -> AppResult<HttpResponse> {
    let secret = new_client_secret();
    let to_hash = secret.clone();
    let row = managing(
        &state,
        actor,
        AuditAction::Create,
        None,
        move |conn, work| {
            let account = body.validate()?;
            granted_units_exist(conn, account.units.as_deref())?;
            let hash = hash_password(&to_hash).map_err(AppError::internal)?;
            let event = work.event(AuditAction::Create, EntityType::ServiceAccount, None);
            let row = store::insert(conn, &account, &hash, event.id, work.at.now)?;
            let event = AuditEvent {
                entity_id: Some(row.id),
                ..event
            };
            let fields = ["client_id", "name", "scopes", "unit_ids", "client_secret"];
            audit::append(conn, &[event.changed(fields)])?;
            Ok(row)
        },
    )
    .await?;
    Ok(registered(row, secret))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let row = managing(&state, actor, AuditAction::Read, id, move |conn, work| {
        let row = store::find(conn, id)?.ok_or(AppError::NotFound)?;
        let event = work.event(AuditAction::Read, EntityType::ServiceAccount, Some(id));
        audit::append(conn, &[event])?;
        Ok(row)
    })
    .await?;
    Ok(shown(row))
}

/// Changes an account. Deactivating it or narrowing its scopes ends its live sessions.
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateServiceAccount>,
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
        let next = change.applied_to(&was);
        granted_units_exist(conn, next.units.as_deref())?;
        let event = work
            .event(AuditAction::Update, EntityType::ServiceAccount, Some(id))
            .changed(next.changed_from(&was));
        let row = store::update(conn, id, current.version, &next, event.id, work.at.now)?
            .ok_or_else(AppError::stale_version)?;
        let mut events = vec![event];
        if let Some(why) = next.ends_sessions(&was) {
            events.extend(end_sessions(conn, &work, id, why)?);
        }
        audit::append(conn, &events)?;
        Ok(row)
    })
    .await?;
    Ok(shown(row))
}

/// Replaces the secret: the new one is shown once, the old one stops working, and the
/// account's live sessions end.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let secret = new_client_secret();
    let to_hash = secret.clone();
    let row = managing(&state, actor, AuditAction::Update, id, move |conn, work| {
        if store::find(conn, id)?.is_none() {
            return Err(AppError::NotFound.into());
        }
        let hash = hash_password(&to_hash).map_err(AppError::internal)?;
        let event = work
            .event(AuditAction::Update, EntityType::ServiceAccount, Some(id))
            .changed(["client_secret"]);
        let row =
            store::set_secret(conn, id, &hash, event.id, work.at.now)?.ok_or(AppError::NotFound)?;
        // A new secret clears the failed logins, so a stranger cannot lock a system out for good.
        unlock_account(conn, &client_key(&row.client_id))?;
        let mut events = vec![event];
        events.extend(end_sessions(conn, &work, id, "secret rotated")?);
        audit::append(conn, &events)?;
        Ok(row)
    })
    .await?;
    Ok(rotated(row, secret))
}
