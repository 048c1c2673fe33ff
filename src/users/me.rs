//! `me`: the caller's own profile, password and second factor.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::store;
use super::view::UserView;
use crate::audit::{self, AuditAction, EntityType, Outcome};
use crate::auth::actor::{Actor, EnrollingActor, SessionStage};
use crate::auth::login::{
    count_reauthentication_failure, guard_reauthentication, reset_reauthentication,
};
use crate::auth::password::{hash_password, validate_new_password, verify_password};
use crate::auth::session::{revoke_all_of_user, RevokeReason};
use crate::auth::totp;
use crate::db::schema::{recovery_codes, sessions, users};
use crate::error::{AppError, AppResult, ConflictKind};
use crate::http::ApiJson;
use crate::state::AppState;

const RECOVERY_CODES: usize = 10;

/// The caller's own user id. Systems have no profile: refused, and the refusal recorded.
async fn own_id(state: &AppState, actor: &Actor, action: AuditAction) -> AppResult<uuid::Uuid> {
    if let Some(id) = actor.user_id() {
        return Ok(id);
    }
    let event = actor
        .event(action, EntityType::User, None, state.clock.now())
        .outcome(Outcome::Denied);
    state
        .db
        .transaction(move |conn| audit::append(conn, &[event]))
        .await?;
    Err(AppError::forbidden(
        "only people have a profile; systems have scopes",
    ))
}

pub async fn profile(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let id = own_id(&state, &actor, AuditAction::Read).await?;
    let now = state.clock.now();
    let row = state
        .db
        .transaction(move |conn| {
            let row = store::find(conn, id)?.ok_or(AppError::NotFound)?;
            audit::append(
                conn,
                &[actor.event(AuditAction::Read, EntityType::User, Some(id), now)],
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UserView::from(row)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password and ends all her other sessions.
pub async fn change_password(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<ChangePassword>,
) -> AppResult<HttpResponse> {
    let id = own_id(&state, &actor, AuditAction::PasswordChange).await?;
    validate_new_password(&body.new_password).map_err(|m| AppError::rule("new_password", m))?;
    if body.new_password == body.current_password {
        return Err(AppError::rule(
            "new_password",
            "must differ from the current password",
        ));
    }
    let now = state.clock.now();
    let throttle = state.settings.throttle;
    state
        .db
        .transaction(move |conn| {
            let (username, stored): (String, String) = users::table
                .find(id)
                .select((users::username, users::password_hash))
                .first(conn)?;
            let denied = || {
                actor
                    .event(AuditAction::PasswordChange, EntityType::User, Some(id), now)
                    .outcome(audit::Outcome::Denied)
            };
            if let Some(refusal) = guard_reauthentication(conn, &throttle, &username, now)? {
                audit::append(conn, &[denied()])?;
                return Ok(Err(refusal));
            }
            if !verify_password(&body.current_password, Some(&stored)) {
                count_reauthentication_failure(conn, &throttle, &username, now)?;
                audit::append(conn, &[denied()])?;
                return Ok(Err(AppError::rule("current_password", "is wrong")));
            }
            reset_reauthentication(conn, &username)?;
            let hash = hash_password(&body.new_password).map_err(AppError::internal)?;
            let event = actor
                .event(AuditAction::PasswordChange, EntityType::User, Some(id), now)
                .changed(["password"]);
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(hash),
                    users::password_changed_at.eq(now),
                    users::updated_at.eq(now),
                    users::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            revoke_all_of_user(
                conn,
                id,
                RevokeReason::PasswordChanged,
                Some(actor.session_id),
                now,
            )?;
            audit::append(conn, &[event])?;
            Ok(Ok(()))
        })
        .await??;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
pub struct Enrolment {
    secret: String,
    otpauth_uri: String,
}

/// Starts enrolment of a second factor: a new secret, confirmed by the next call.
pub async fn start_totp(
    state: web::Data<AppState>,
    EnrollingActor(actor): EnrollingActor,
) -> AppResult<HttpResponse> {
    let id = own_id(&state, &actor, AuditAction::MfaEnrol).await?;
    let data_key = state.settings.data_key.clone();
    let now = state.clock.now();
    let enrolment = state
        .db
        .transaction(move |conn| {
            let (username, confirmed): (String, Option<chrono::DateTime<chrono::Utc>>) =
                users::table
                    .find(id)
                    .select((users::username, users::totp_confirmed_at))
                    .first(conn)?;
            if confirmed.is_some() {
                return Err(AppError::conflict(
                    ConflictKind::SecondFactorEnrolled,
                    "a second factor is already enrolled",
                ));
            }
            let secret = totp::generate_secret();
            let otpauth_uri =
                totp::provisioning_uri(&secret, &username, "Trygg").map_err(AppError::internal)?;
            let event = actor
                .event(AuditAction::MfaEnrol, EntityType::User, Some(id), now)
                .changed(["totp_secret"]);
            diesel::update(users::table.find(id))
                .set((
                    users::totp_secret.eq(data_key.seal(id.as_bytes(), &secret)),
                    users::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            audit::append(conn, &[event])?;
            Ok(Enrolment {
                secret,
                otpauth_uri,
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(enrolment))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotp {
    code: String,
}

#[derive(Serialize)]
pub struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

/// Confirms the pending secret with a code; answers the one-time recovery codes, and lifts the
/// current session to full access.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    EnrollingActor(actor): EnrollingActor,
    ApiJson(body): ApiJson<ConfirmTotp>,
) -> AppResult<HttpResponse> {
    let id = own_id(&state, &actor, AuditAction::MfaEnrol).await?;
    let data_key = state.settings.data_key.clone();
    let now = state.clock.now();
    let codes = state
        .db
        .transaction(move |conn| {
            let (secret, confirmed): (Option<String>, Option<chrono::DateTime<chrono::Utc>>) =
                users::table
                    .find(id)
                    .select((users::totp_secret, users::totp_confirmed_at))
                    .first(conn)?;
            if confirmed.is_some() {
                return Err(AppError::conflict(
                    ConflictKind::SecondFactorEnrolled,
                    "a second factor is already enrolled",
                ));
            }
            let secret = secret
                .and_then(|sealed| data_key.open(id.as_bytes(), &sealed))
                .ok_or_else(|| {
                    AppError::conflict(
                        ConflictKind::EnrolmentNotStarted,
                        "start enrolment first (POST /api/v1/me/totp)",
                    )
                })?;
            let Some(step) = totp::verify_code(&secret, &body.code, now.timestamp(), None) else {
                return Err(AppError::rule(
                    "code",
                    "does not match; check the device's clock",
                ));
            };
            let event = actor
                .event(AuditAction::MfaEnrol, EntityType::User, Some(id), now)
                .changed(["totp_confirmed_at", "recovery_codes"]);
            diesel::update(users::table.find(id))
                .set((
                    users::totp_confirmed_at.eq(now),
                    users::totp_last_step.eq(step),
                    users::last_audit_event_id.eq(event.id),
                ))
                .execute(conn)?;
            let codes = totp::generate_recovery_codes(RECOVERY_CODES);
            diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id)))
                .execute(conn)?;
            let rows: Vec<_> = codes
                .iter()
                .map(|code| {
                    (
                        recovery_codes::user_id.eq(id),
                        recovery_codes::code_hash.eq(totp::hash_recovery_code(code)),
                    )
                })
                .collect();
            diesel::insert_into(recovery_codes::table)
                .values(rows)
                .execute(conn)?;
            diesel::update(sessions::table.find(actor.session_id))
                .set(sessions::stage.eq(SessionStage::Full))
                .execute(conn)?;
            audit::append(conn, &[event])?;
            Ok(codes)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(RecoveryCodes {
            recovery_codes: codes,
        }))
}
