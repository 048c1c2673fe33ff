//! The authenticated caller. Every protected handler takes an `Actor`: the bearer token is
//! checked, then its session is looked up in the database on every request, so a logout,
//! password change, deactivation or change of profession takes effect on the very next request.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::profession::{Profession, Scope};
use crate::audit::{event::ActorType, AuditAction, AuditActor, AuditEvent, EntityType};
use crate::db::schema::{service_accounts, sessions, users};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, RequestId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        id: Uuid,
        profession: Profession,
        unit_id: Option<Uuid>,
    },
    Service {
        id: Uuid,
        scopes: Vec<Scope>,
        /// The units it is granted; `None`: every unit.
        units: Option<Vec<Uuid>>,
    },
}

impl Principal {
    /// Whether the caller may see what belongs to `unit`: a system only in the units it is
    /// granted; for people the policy decides by relation, and this says yes.
    pub fn reaches_unit(&self, unit: Uuid) -> bool {
        match self {
            Principal::Service {
                units: Some(units), ..
            } => units.contains(&unit),
            _ => true,
        }
    }

    /// The units a system is limited to, if it is limited.
    pub fn granted_units(&self) -> Option<&[Uuid]> {
        match self {
            Principal::Service {
                units: Some(units), ..
            } => Some(units),
            _ => None,
        }
    }
}

impl Principal {
    /// Who acts, as the audit log records it.
    pub fn audit_actor(&self) -> AuditActor {
        match self {
            Principal::User {
                id,
                profession,
                unit_id,
            } => AuditActor {
                actor_type: ActorType::User,
                id: Some(*id),
                role: Some(profession.as_str().to_owned()),
                unit_id: *unit_id,
            },
            Principal::Service { id, .. } => AuditActor {
                actor_type: ActorType::ServiceAccount,
                id: Some(*id),
                role: Some("service_account".to_owned()),
                unit_id: None,
            },
        }
    }
}

crate::text_enum! {
    /// How far a session got: `enrolment` may only set up a second factor.
    pub enum SessionStage {
        Full = "full",
        Enrolment = "enrolment",
    }
}

/// Where a request came from, for audit events; known without authentication.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl RequestOrigin {
    /// The peer's IP only: forwarded-for headers are set by whoever sends the request, so they
    /// must not steer throttling or the audit trail.
    pub fn of(req: &HttpRequest) -> Self {
        Self {
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
            client_addr: req.peer_addr().map(|a| a.ip().to_string()),
        }
    }
}

impl FromRequest for RequestOrigin {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::of(req)))
    }
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    pub session_id: Uuid,
    pub stage: SessionStage,
    pub origin: RequestOrigin,
}

impl Actor {
    pub fn user_id(&self) -> Option<Uuid> {
        match self.principal {
            Principal::User { id, .. } => Some(id),
            Principal::Service { .. } => None,
        }
    }

    pub fn profession(&self) -> Option<Profession> {
        match self.principal {
            Principal::User { profession, .. } => Some(profession),
            Principal::Service { .. } => None,
        }
    }

    pub fn audit_actor(&self) -> AuditActor {
        self.principal.audit_actor()
    }

    /// An audit event by this actor, carrying the request's id and origin.
    pub fn event(
        &self,
        action: AuditAction,
        entity_type: EntityType,
        entity_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> AuditEvent {
        AuditEvent::new(self.audit_actor(), action, entity_type, entity_id, now).request(
            self.origin.request_id.clone(),
            self.origin.client_addr.clone(),
        )
    }
}

fn bearer_token(req: &HttpRequest) -> AppResult<String> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| AppError::unauthorized("a bearer token is required"))?
        .to_str()
        .map_err(|_| AppError::unauthorized("the Authorization header is not readable"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AppError::unauthorized("use Authorization: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AppError::unauthorized("use Authorization: Bearer <token>"));
    }
    Ok(token.trim().to_owned())
}

const INVALID_TOKEN: &str = "the token is invalid, expired or revoked";

async fn authenticate(req: HttpRequest, full_only: bool) -> AppResult<Actor> {
    // Already checked, token and live session, earlier in this same request (a middleware).
    if let Some(actor) = req.extensions().get::<Actor>().cloned() {
        return Ok(actor);
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal("app state missing"))?
        .clone();
    let token = bearer_token(&req)?;
    let now = state.clock.now();
    let claims = state
        .tokens
        .verify(&token, now)
        .map_err(|_| AppError::unauthorized(INVALID_TOKEN))?;
    let origin = RequestOrigin::of(&req);
    let actor = state
        .db
        .run(move |conn| load_actor(conn, claims.sid, &claims.sub, now))
        .await?
        .ok_or_else(|| AppError::unauthorized(INVALID_TOKEN))?;
    if full_only && actor.0 != SessionStage::Full {
        return Err(AppError::forbidden(
            "enrol a second factor first (POST /api/v1/me/totp)",
        ));
    }
    Ok(Actor {
        principal: actor.1,
        session_id: claims.sid,
        stage: actor.0,
        origin,
    })
}

/// The live session and principal behind a token, or `None` when anything has ended.
fn load_actor(
    conn: &mut PgConnection,
    session_id: Uuid,
    subject: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<(SessionStage, Principal)>> {
    // One statement: this runs for every request that carries a token.
    type Found = (
        Option<Uuid>,
        Option<Uuid>,
        SessionStage,
        Option<Vec<String>>,
        Option<(Profession, Option<Uuid>, bool)>,
        Option<(Vec<String>, bool, Option<Vec<Uuid>>)>,
    );
    let found: Option<Found> = sessions::table
        .left_join(users::table)
        .left_join(service_accounts::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((
            sessions::user_id,
            sessions::service_account_id,
            sessions::stage,
            sessions::scopes,
            (users::profession, users::unit_id, users::active).nullable(),
            (
                service_accounts::scopes,
                service_accounts::active,
                service_accounts::unit_ids,
            )
                .nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((user_id, service_id, stage, narrowed, user, service)) = found else {
        return Ok(None);
    };
    let principal = match (user_id, service_id, user, service) {
        (Some(user_id), None, Some((profession, unit_id, true)), _) => Some(Principal::User {
            id: user_id,
            profession,
            unit_id,
        }),
        (None, Some(service_id), _, Some((scopes, true, units))) => Some(Principal::Service {
            id: service_id,
            // What the account still holds, and of that what the session asked for.
            scopes: scopes
                .iter()
                .filter(|s| narrowed.as_ref().is_none_or(|n| n.contains(s)))
                .filter_map(|s| Scope::parse(s))
                .collect(),
            units,
        }),
        _ => None,
    };
    // The token's subject must be the session's principal: a defence against a forged pairing.
    Ok(principal
        .filter(|p| subject_of(p) == subject)
        .map(|p| (stage, p)))
}

pub fn subject_of(principal: &Principal) -> String {
    match principal {
        Principal::User { id, .. } => format!("user:{id}"),
        Principal::Service { id, .. } => format!("service:{id}"),
    }
}

impl FromRequest for Actor {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone(), true))
    }
}

/// An actor whose session may still be at the enrolment stage: only for setting up a second
/// factor and for logging out.
pub struct EnrollingActor(pub Actor);

impl FromRequest for EnrollingActor {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req, false).await.map(EnrollingActor) })
    }
}
