//! `me`: the caller's own profile, password and second factor.

use actix_web::{web, HttpResponse};
use diesel::pg::PgConnection;
use uuid::Uuid;

use super::input::{ChangePassword, ConfirmTotp};
use super::store;
use super::view::{not_stored, Enrolment, RecoveryCodes, UserView};
use crate::access::refuse;
use crate::access::work::Work;
use crate::audit::{self, AuditAction, EntityType, Outcome};
use crate::auth::actor::{Actor, EnrollingActor};
use crate::auth::feed::{self, FeedEnd};
use crate::auth::login::{
    count_reauthentication_failure, guard_reauthentication, reset_reauthentication,
};
use crate::auth::password::{hash_password, verify_password};
use crate::auth::session::{revoke_all_of_user, RevokeReason};
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::totp;
use crate::clock::Moment;
use crate::db::Stop;
use crate::error::{AppError, AppResult, ConflictKind};
use crate::http::ApiJson;
use crate::state::AppState;

const RECOVERY_CODES: usize = 10;

/// Runs `work` on the caller's own account, in one audited transaction. Systems have no
/// profile: refused, and the refusal recorded.
async fn own<T, F>(state: &AppState, actor: Actor, action: AuditAction, work: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, Uuid, Work) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let at = Moment::of(state.clock.as_ref());
    let settings = state.settings.clone();
    state
        .db
        .audited(move |conn| {
            let Some(id) = actor.user_id() else {
                let event = actor.event(action, EntityType::User, None, at.now);
                let message = "only people have a profile; systems have scopes";
                return Err(refuse(conn, event, AppError::forbidden(message)));
            };
            work(
                conn,
                id,
                Work {
                    actor,
                    at,
                    settings,
                },
            )
        })
        .await
}

fn already_enrolled() -> AppError {
    AppError::conflict(
        ConflictKind::SecondFactorEnrolled,
        "a second factor is already enrolled",
    )
}

pub async fn profile(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let row = own(&state, actor, AuditAction::Read, |conn, id, work| {
        let row = store::find(conn, id)?.ok_or(AppError::NotFound)?;
        audit::append(
            conn,
            &[work.event(AuditAction::Read, EntityType::User, Some(id))],
        )?;
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserView::from(row)))
}

/// Checks the current password: a login in all but name, so a stolen session is no
/// unthrottled way to guess it. A failure is a login outcome (`denied`), committed with its
/// throttle counter; success clears the counter.
fn reauthenticate(
    conn: &mut PgConnection,
    work: &Work,
    id: Uuid,
    throttle: &ThrottlePolicy,
    password: &str,
) -> Result<(), Stop> {
    let now = work.at.now;
    let (username, stored) = store::credentials(conn, id)?;
    let failed = |conn: &mut PgConnection, error| -> Result<Stop, AppError> {
        let event = work.event(AuditAction::PasswordChange, EntityType::User, Some(id));
        audit::append(conn, &[event.outcome(Outcome::Denied)])?;
        Ok(Stop::Refuse(error))
    };
    if let Some(refusal) = guard_reauthentication(conn, throttle, &username, now)? {
        return Err(failed(conn, refusal)?);
    }
    if !verify_password(password, Some(&stored)) {
        count_reauthentication_failure(conn, throttle, &username, now)?;
        return Err(failed(
            conn,
            AppError::rule("current_password", "is wrong"),
        )?);
    }
    Ok(reset_reauthentication(conn, &username)?)
}

/// Changes the caller's password and ends all her other sessions and her calendar feed.
pub async fn change_password(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<ChangePassword>,
) -> AppResult<HttpResponse> {
    let throttle = state.settings.throttle;
    own(
        &state,
        actor,
        AuditAction::PasswordChange,
        move |conn, id, work| {
            body.validate()?;
            let now = work.at.now;
            reauthenticate(conn, &work, id, &throttle, &body.current_password)?;
            let hash = hash_password(&body.new_password).map_err(AppError::internal)?;
            let event = work
                .event(AuditAction::PasswordChange, EntityType::User, Some(id))
                .changed(["password"]);
            store::set_password(conn, id, &hash, event.id, now)?;
            let keep = Some(work.actor.session_id);
            revoke_all_of_user(conn, id, RevokeReason::PasswordChanged, keep, now)?;
            // A feed's URL may have been copied anywhere: a new password ends it too.
            feed::end_live(conn, id, FeedEnd::PasswordChanged, now, event.id)?;
            Ok(audit::append(conn, &[event])?)
        },
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Starts enrolment of a second factor: a new secret, confirmed by the next call.
pub async fn start_totp(
    state: web::Data<AppState>,
    EnrollingActor(actor): EnrollingActor,
) -> AppResult<HttpResponse> {
    let data_key = state.settings.data_key.clone();
    let enrolment = own(
        &state,
        actor,
        AuditAction::MfaEnrol,
        move |conn, id, work| {
            let (username, confirmed) = store::enrolment(conn, id)?;
            if confirmed.is_some() {
                return Err(already_enrolled().into());
            }
            let secret = totp::generate_secret();
            let otpauth_uri =
                totp::provisioning_uri(&secret, &username, "Trygg").map_err(AppError::internal)?;
            let event = work
                .event(AuditAction::MfaEnrol, EntityType::User, Some(id))
                .changed(["totp_secret"]);
            store::set_totp_secret(conn, id, &data_key.seal(id.as_bytes(), &secret), event.id)?;
            audit::append(conn, &[event])?;
            Ok(Enrolment {
                secret,
                otpauth_uri,
            })
        },
    )
    .await?;
    Ok(not_stored(&enrolment))
}

/// Confirms the pending secret with a code; answers the one-time recovery codes, and lifts the
/// current session to full access.
pub async fn confirm_totp(
    state: web::Data<AppState>,
    EnrollingActor(actor): EnrollingActor,
    ApiJson(body): ApiJson<ConfirmTotp>,
) -> AppResult<HttpResponse> {
    let data_key = state.settings.data_key.clone();
    let codes = own(
        &state,
        actor,
        AuditAction::MfaEnrol,
        move |conn, id, work| {
            let (sealed, confirmed) = store::pending_totp(conn, id)?;
            if confirmed.is_some() {
                return Err(already_enrolled().into());
            }
            let not_started = || {
                let message = "start enrolment first (POST /api/v1/me/totp)";
                AppError::conflict(ConflictKind::EnrolmentNotStarted, message)
            };
            let secret = sealed
                .and_then(|sealed| data_key.open(id.as_bytes(), &sealed))
                .ok_or_else(not_started)?;
            let now = work.at.now;
            let Some(step) = totp::verify_code(&secret, &body.code, now.timestamp(), None) else {
                let message = "does not match; check the device's clock";
                return Err(AppError::rule("code", message).into());
            };
            let event = work
                .event(AuditAction::MfaEnrol, EntityType::User, Some(id))
                .changed(["totp_confirmed_at", "recovery_codes"]);
            let codes = totp::generate_recovery_codes(RECOVERY_CODES);
            let hashes = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
            let session = work.actor.session_id;
            store::confirm_totp(conn, id, step, hashes, session, event.id, now)?;
            audit::append(conn, &[event])?;
            Ok(codes)
        },
    )
    .await?;
    Ok(not_stored(&RecoveryCodes {
        recovery_codes: codes,
    }))
}
