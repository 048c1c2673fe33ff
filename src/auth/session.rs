//! Sessions and the tokens issued for them.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::actor::SessionStage;
use super::tokens::{hash_opaque_token, new_refresh_token, TokenKeys, MAX_ACCESS_TTL_SECS};
use crate::db::schema::{refresh_tokens, sessions};
use crate::error::{AppError, AppResult};

/// A person's login lasts at most a working day; refreshing never extends it.
pub const PERSON_SESSION_HOURS: i64 = 10;
/// An enrolment-only session is short: it exists to set up a second factor.
pub const ENROLMENT_SESSION_MINUTES: i64 = 15;

crate::text_enum! {
    pub enum RevokeReason {
        Logout = "logout",
        RefreshReuse = "refresh_reuse",
        PasswordChanged = "password_changed",
        Deactivated = "deactivated",
        ProfessionChanged = "profession_changed",
        Administrator = "administrator",
    }
}

#[derive(Debug, Clone, Copy)]
pub enum SessionOwner {
    User(Uuid),
    Service(Uuid),
}

impl SessionOwner {
    fn subject(self) -> String {
        match self {
            SessionOwner::User(id) => format!("user:{id}"),
            SessionOwner::Service(id) => format!("service:{id}"),
        }
    }
}

/// The token endpoint's answer, in the shape of RFC 6749 section 5.1.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Set when the session may only enrol a second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_enrolment_required: Option<bool>,
}

pub struct StartedSession {
    pub id: Uuid,
    pub tokens: TokenResponse,
}

/// Opens a session and issues its first tokens. People get a rotating refresh token; systems
/// authenticate again instead.
pub fn start(
    conn: &mut PgConnection,
    keys: &TokenKeys,
    owner: SessionOwner,
    stage: SessionStage,
    now: DateTime<Utc>,
) -> AppResult<StartedSession> {
    let id = Uuid::now_v7();
    let lifetime = match (owner, stage) {
        (_, SessionStage::Enrolment) => Duration::minutes(ENROLMENT_SESSION_MINUTES),
        (SessionOwner::User(_), SessionStage::Full) => Duration::hours(PERSON_SESSION_HOURS),
        (SessionOwner::Service(_), SessionStage::Full) => Duration::seconds(MAX_ACCESS_TTL_SECS),
    };
    let (user_id, service_account_id) = match owner {
        SessionOwner::User(id) => (Some(id), None),
        SessionOwner::Service(id) => (None, Some(id)),
    };
    let expires_at = now + lifetime;
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user_id),
            sessions::service_account_id.eq(service_account_id),
            sessions::stage.eq(stage),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    let with_refresh = matches!((owner, stage), (SessionOwner::User(_), SessionStage::Full));
    let tokens = issue(conn, keys, id, owner, expires_at, with_refresh, now)?;
    Ok(StartedSession {
        id,
        tokens: TokenResponse {
            mfa_enrolment_required: (stage == SessionStage::Enrolment).then_some(true),
            ..tokens
        },
    })
}

/// Narrows a system's session to `scopes` (a subset of its account's, checked by the caller).
pub fn narrow(conn: &mut PgConnection, session_id: Uuid, scopes: &[String]) -> AppResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::scopes.eq(Some(scopes)))
        .execute(conn)?;
    Ok(())
}

/// An access token (never outliving its session) and, for people, a fresh refresh token.
pub fn issue(
    conn: &mut PgConnection,
    keys: &TokenKeys,
    session_id: Uuid,
    owner: SessionOwner,
    session_expires_at: DateTime<Utc>,
    with_refresh: bool,
    now: DateTime<Utc>,
) -> AppResult<TokenResponse> {
    let ttl = (session_expires_at - now)
        .num_seconds()
        .clamp(1, MAX_ACCESS_TTL_SECS);
    let access_token = keys
        .issue(&owner.subject(), session_id, now, ttl)
        .map_err(AppError::internal)?;
    let refresh_token = if with_refresh {
        let token = new_refresh_token();
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(hash_opaque_token(&token)),
                refresh_tokens::session_id.eq(session_id),
                refresh_tokens::issued_at.eq(now),
                refresh_tokens::expires_at.eq(session_expires_at),
            ))
            .execute(conn)?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token,
        scope: None,
        mfa_enrolment_required: None,
    })
}

pub fn revoke(
    conn: &mut PgConnection,
    session_id: Uuid,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table.find(session_id))
        .filter(sessions::revoked_at.is_null())
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .execute(conn)
}

/// Ends every live session of a user, except `keep` (the one changing her own password).
pub fn revoke_all_of_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    reason: RevokeReason,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::id.ne(keep.unwrap_or_else(Uuid::nil)))
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .execute(conn)
}

pub fn revoke_all_of_service(
    conn: &mut PgConnection,
    service_account_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(sessions::table)
        .filter(sessions::service_account_id.eq(service_account_id))
        .filter(sessions::revoked_at.is_null())
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(RevokeReason::Administrator),
        ))
        .execute(conn)
}
