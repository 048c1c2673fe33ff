//! `users`: accounts, managed by system administrators (who see no case data).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::store::{
    self, check_unit_rule, validate_display_name, validate_username, NewUser, UserRow,
};
use super::view::UserView;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::auth::login::unlock_account;
use crate::auth::password::{hash_password, validate_new_password};
use crate::auth::session::{revoke_all_of_user, RevokeReason};
use crate::db::schema::{child_secretaries, facility_staff, users};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::etag::{etag, required_version};
use crate::http::pagination::{PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::enforce::authorize;
use crate::policy::{Action, Profession};
use crate::state::AppState;

fn with_etag(row: &UserRow, response: &mut actix_web::HttpResponseBuilder) {
    response.insert_header((header::ETAG, etag(row.id, row.version)));
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    authorize(
        &state,
        &actor,
        Action::ManageUsers,
        AuditAction::List,
        EntityType::User,
        None,
    )
    .await?;
    let page = query.parse()?;
    let now = state.clock.now();
    let paged = state
        .db
        .transaction(move |conn| {
            let mut q = users::table
                .select(UserRow::as_select())
                .order(users::id)
                .limit(page.limit + 1)
                .into_boxed();
            if let Some(after) = page.after {
                q = q.filter(users::id.gt(after));
            }
            let paged = Paged::from_rows(q.load(conn)?, page, |u| u.id);
            let events: Vec<_> = paged
                .items
                .iter()
                .map(|u| actor.event(AuditAction::Read, EntityType::User, Some(u.id), now))
                .collect();
            audit::append(conn, &events)?;
            Ok(paged)
        })
        .await?;
    Ok(HttpResponse::Ok().json(paged.map(UserView::from)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    username: String,
    display_name: String,
    profession: Profession,
    unit_id: Option<Uuid>,
    password: String,
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateUser>,
) -> AppResult<HttpResponse> {
    authorize(
        &state,
        &actor,
        Action::ManageUsers,
        AuditAction::Create,
        EntityType::User,
        None,
    )
    .await?;
    let mut errors = Vec::new();
    let username = validate_username(&body.username)
        .map_err(|e| errors.push(e))
        .ok();
    let display_name = validate_display_name(&body.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(message) = validate_new_password(&body.password) {
        errors.push(FieldError::new("password", message));
    }
    if let Err(e) = check_unit_rule(body.profession, body.unit_id) {
        errors.push(e);
    }
    let (Some(username), Some(display_name), true) = (username, display_name, errors.is_empty())
    else {
        return Err(AppError::unprocessable(errors));
    };
    let new_user = NewUser {
        username,
        display_name,
        profession: body.profession,
        unit_id: body.unit_id,
    };
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            if let Some(unit_id) = new_user.unit_id {
                if !crate::db::units::is_open(conn, unit_id)? {
                    return Err(AppError::rule("unit_id", "no such active unit"));
                }
            }
            let hash = hash_password(&body.password).map_err(AppError::internal)?;
            let event = actor.event(AuditAction::Create, EntityType::User, None, now);
            let row = store::insert(conn, &new_user, &hash, event.id, now)?;
            let event = audit::AuditEvent {
                entity_id: Some(row.id),
                ..event
            }
            .changed([
                "username",
                "display_name",
                "profession",
                "unit_id",
                "password",
            ]);
            audit::append(conn, &[event])?;
            Ok(row)
        })
        .await?;
    let mut response = HttpResponse::Created();
    with_etag(&row, &mut response);
    response.insert_header((header::LOCATION, format!("/api/v1/users/{}", row.id)));
    Ok(response.json(UserView::from(row)))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ManageUsers,
        AuditAction::Read,
        EntityType::User,
        Some(id),
    )
    .await?;
    let row =
        crate::access::read::read_one(&state, actor, EntityType::User, id, store::find).await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(UserView::from(row)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    display_name: Option<String>,
    profession: Option<Profession>,
    #[serde(default, with = "double_option")]
    unit_id: Option<Option<Uuid>>,
    active: Option<bool>,
}

/// Tells "absent" (leave as is) from `null` (clear) in a JSON merge-style update.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ManageUsers,
        AuditAction::Update,
        EntityType::User,
        Some(id),
    )
    .await?;
    let expected_version = required_version(&req, id)?;
    let display_name = body
        .display_name
        .as_deref()
        .map(validate_display_name)
        .transpose()
        .map_err(|e| AppError::unprocessable(vec![e]))?;
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            // Locked against other writers (not against the key-share locks of rows that refer
            // to her), so the changes below are worked out from the row they replace.
            let current = users::table
                .find(id)
                .select(UserRow::as_select())
                .for_no_key_update()
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            if current.version != expected_version {
                return Err(stale_user());
            }
            let profession = body.profession.unwrap_or(current.profession);
            let unit_id = body.unit_id.unwrap_or(current.unit_id);
            check_unit_rule(profession, unit_id).map_err(|e| AppError::unprocessable(vec![e]))?;
            if let Some(unit_id) = unit_id.filter(|u| Some(*u) != current.unit_id) {
                if !crate::db::units::is_open(conn, unit_id)? {
                    return Err(AppError::rule("unit_id", "no such active unit"));
                }
            }
            let mut changed = Vec::new();
            let display_name = display_name.unwrap_or(current.display_name.clone());
            if display_name != current.display_name {
                changed.push("display_name");
            }
            if profession != current.profession {
                changed.push("profession");
            }
            if unit_id != current.unit_id {
                changed.push("unit_id");
            }
            let active = body.active.unwrap_or(current.active);
            if active != current.active {
                changed.push("active");
            }
            // Access follows profession and unit: her caseload and the facilities she worked at
            // were given for the old ones, so they end with them.
            let moved = profession != current.profession || unit_id != current.unit_id;
            if moved && end_assignments(conn, id)? > 0 {
                changed.push("assignments");
            }
            let event = actor
                .event(AuditAction::Update, EntityType::User, Some(id), now)
                .changed(changed.iter().copied());
            let row = diesel::update(
                users::table
                    .find(id)
                    .filter(users::version.eq(current.version)),
            )
            .set((
                users::display_name.eq(&display_name),
                users::profession.eq(profession),
                users::unit_id.eq(unit_id),
                users::active.eq(active),
                users::updated_at.eq(now),
                users::version.eq(users::version + 1),
                users::last_audit_event_id.eq(event.id),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)
            .optional()?
            .ok_or_else(stale_user)?;
            // A change of profession or unit ends her sessions at once, as does deactivation.
            let reason = if !active {
                Some(RevokeReason::Deactivated)
            } else if moved {
                Some(RevokeReason::ProfessionChanged)
            } else {
                None
            };
            if let Some(reason) = reason {
                revoke_all_of_user(conn, id, reason, None, now)?;
            }
            audit::append(conn, &[event])?;
            Ok(row)
        })
        .await?;
    let mut response = HttpResponse::Ok();
    with_etag(&row, &mut response);
    Ok(response.json(UserView::from(row)))
}

fn stale_user() -> AppError {
    AppError::stale_version()
}

/// Removes her from every child's caseload and every facility's staff list; returns how many
/// assignments ended.
fn end_assignments(conn: &mut PgConnection, user_id: Uuid) -> AppResult<usize> {
    let caseload =
        diesel::delete(child_secretaries::table.filter(child_secretaries::user_id.eq(user_id)))
            .execute(conn)?;
    let staff = diesel::delete(facility_staff::table.filter(facility_staff::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(caseload + staff)
}

/// Lifts a hard lock after too many failed logins.
pub async fn unlock(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    authorize(
        &state,
        &actor,
        Action::ManageUsers,
        AuditAction::Unlock,
        EntityType::User,
        Some(id),
    )
    .await?;
    let now = state.clock.now();
    state
        .db
        .transaction(move |conn| {
            let user = store::find(conn, id)?.ok_or(AppError::NotFound)?;
            unlock_account(conn, &user.username)?;
            audit::append(
                conn,
                &[actor.event(AuditAction::Unlock, EntityType::User, Some(id), now)],
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
