//! `POST /api/v1/auth/token` (RFC 6749 shapes) and `POST /api/v1/auth/revoke`.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::{EnrollingActor, RequestOrigin};
use crate::auth::login::{self, ClientGrant, GrantOutcome, LoginContext, PasswordGrant};
use crate::auth::session::{self, RevokeReason};
use crate::error::{AppError, AppResult, FieldError};
use crate::http::form::FormOrJson;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    grant_type: String,
    username: Option<String>,
    password: Option<String>,
    totp_code: Option<String>,
    recovery_code: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

fn required(value: Option<String>, field: &str, missing: &mut Vec<FieldError>) -> String {
    match value {
        Some(value) if !value.is_empty() => value,
        _ => {
            missing.push(FieldError::new(field, "is required for this grant_type"));
            String::new()
        }
    }
}

fn no_missing(missing: Vec<FieldError>) -> AppResult<()> {
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::BadRequest {
            detail: "required fields are missing".into(),
            errors: missing,
        })
    }
}

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
    let mut missing = Vec::new();
    let outcome = match request.grant_type.as_str() {
        "password" => {
            let grant = PasswordGrant {
                username: required(request.username, "username", &mut missing),
                password: required(request.password, "password", &mut missing),
                totp_code: request.totp_code,
                recovery_code: request.recovery_code,
            };
            no_missing(missing)?;
            state
                .db
                .transaction(move |conn| login::password_grant(conn, &ctx, grant))
                .await?
        }
        "refresh_token" => {
            let token = required(request.refresh_token, "refresh_token", &mut missing);
            no_missing(missing)?;
            state
                .db
                .transaction(move |conn| login::refresh_grant(conn, &ctx, &token))
                .await?
        }
        "client_credentials" => {
            let grant = ClientGrant {
                client_id: required(request.client_id, "client_id", &mut missing),
                client_secret: required(request.client_secret, "client_secret", &mut missing),
                scope: request.scope,
            };
            no_missing(missing)?;
            state
                .db
                .transaction(move |conn| login::client_credentials_grant(conn, &ctx, grant))
                .await?
        }
        _ => {
            return Err(AppError::invalid_field(
                "grant_type",
                "must be password, refresh_token or client_credentials",
            ))
        }
    };
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
