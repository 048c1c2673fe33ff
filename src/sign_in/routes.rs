//! `POST /api/v1/auth/token` (RFC 6749 shapes) and `POST /api/v1/auth/revoke`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::input::{Grant, TokenRequest};
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::{EnrollingActor, RequestOrigin};
use crate::auth::login::{self, GrantOutcome, LoginContext};
use crate::auth::session::{self, RevokeReason};
use crate::error::AppResult;
use crate::http::form::FormOrJson;
use crate::state::AppState;

/// Issues tokens for one grant (RFC 6749 shapes). A refusal is answered after its audit
/// events and throttle counters have committed.
pub async fn token(
    state: web::Data<AppState>,
    origin: RequestOrigin,
    FormOrJson(request): FormOrJson<TokenRequest>,
) -> AppResult<HttpResponse> {
    let ctx = LoginContext {
        keys: state.tokens.clone(),
        data_key: state.settings.data_key.clone(),
        throttle: state.settings.throttle,
        mfa_required: state.settings.mfa_required,
        origin,
        now: state.clock.now(),
    };
    let grant = request.grant()?;
    let outcome = state
        .db
        .transaction(move |conn| match grant {
            Grant::Password(grant) => login::password_grant(conn, &ctx, grant),
            Grant::RefreshToken(token) => login::refresh_grant(conn, &ctx, &token),
            Grant::ClientCredentials(grant) => login::client_credentials_grant(conn, &ctx, grant),
        })
        .await?;
    match outcome {
        GrantOutcome::Issued(tokens) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(tokens)),
        GrantOutcome::Refused(error) => Err(error),
    }
}

/// Ends the caller's session: its access and refresh tokens stop working at once.
pub async fn revoke(
    state: web::Data<AppState>,
    EnrollingActor(actor): EnrollingActor,
) -> AppResult<HttpResponse> {
    let now = state.clock.now();
    state
        .db
        .transaction(move |conn| {
            session::revoke(conn, actor.session_id, RevokeReason::Logout, now)?;
            let event = actor.event(
                AuditAction::Revoke,
                EntityType::Session,
                Some(actor.session_id),
                now,
            );
            audit::append(conn, &[event])
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
