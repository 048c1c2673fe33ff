//! `Idempotency-Key` on POSTs: a client system that retries a request gets the first answer
//! again instead of creating the thing twice. Keys belong to the caller (the token's subject);
//! reusing a key for a different request is refused; a request still running gets 409.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{self, event::ActorType, AuditAction, AuditActor, AuditEvent, EntityType};
use crate::db::schema::idempotency_keys;
use crate::error::{AppError, AppResult};
use crate::startup::AppState;

pub const HEADER: &str = "idempotency-key";
/// Headers of the first answer that a replay repeats.
const KEPT_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

enum Claim {
    /// First use: go ahead, then store the answer.
    Fresh,
    Replay {
        status: u16,
        headers: serde_json::Value,
        body: Vec<u8>,
    },
    Mismatch,
    InFlight,
}

fn applies(req: &ServiceRequest) -> bool {
    req.method() == Method::POST
        && req.path().starts_with("/api/v1/")
        // Tokens are never replayed: each login must be its own.
        && !req.path().starts_with("/api/v1/auth/")
        && req.headers().contains_key(HEADER)
}

fn key_of(req: &ServiceRequest) -> Result<String, AppError> {
    let key = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(key.to_owned())
    } else {
        Err(AppError::invalid_field(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters",
        ))
    }
}

fn refuse(req: ServiceRequest, error: AppError) -> ServiceResponse<BoxBody> {
    let (http_req, _) = req.into_parts();
    ServiceResponse::new(http_req, error.error_response())
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !applies(&req) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let key = match key_of(&req) {
        Ok(key) => key,
        Err(error) => return Ok(refuse(req, error)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // Only a valid token names an owner; without one the handler answers 401 as usual.
    let owner = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .and_then(|token| state.tokens.verify(token.trim(), state.clock.now()).ok())
        .map(|claims| claims.sub);
    let Some(owner) = owner else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };

    let limit = state.settings.body_limit;
    let mut body = BytesMut::new();
    let mut payload = req.take_payload();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Ok(refuse(
                req,
                AppError::bad_request("the request body could not be read"),
            ));
        };
        if body.len() + chunk.len() > limit {
            return Ok(refuse(req, AppError::PayloadTooLarge { limit }));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(req.uri().to_string());
    hasher.update(&body);
    let fingerprint = hex::encode(hasher.finalize());
    req.set_payload(Payload::from(body));

    let claim = {
        let (owner, key, fingerprint) = (owner.clone(), key.clone(), fingerprint);
        let now = state.clock.now();
        state
            .db
            .transaction(move |conn| claim(conn, &owner, &key, &fingerprint, now))
            .await
    };
    match claim {
        Err(error) => Ok(refuse(req, error)),
        Ok(Claim::Mismatch) => Ok(refuse(
            req,
            AppError::rule(
                "Idempotency-Key",
                "was already used for a different request",
            ),
        )),
        Ok(Claim::InFlight) => Ok(refuse(
            req,
            AppError::conflict("a request with this Idempotency-Key is still being handled"),
        )),
        Ok(Claim::Replay {
            status,
            headers,
            body,
        }) => {
            if let Err(error) = record_replay(&state, &owner, &headers).await {
                return Ok(refuse(req, error));
            }
            let (http_req, _) = req.into_parts();
            Ok(ServiceResponse::new(
                http_req,
                replayed(status, &headers, body),
            ))
        }
        Ok(Claim::Fresh) => {
            let response = next.call(req).await?.map_into_boxed_body();
            remember(&state, owner, key, response).await
        }
    }
}

fn claim(
    conn: &mut PgConnection,
    owner: &str,
    key: &str,
    fingerprint: &str,
    now: chrono::DateTime<Utc>,
) -> AppResult<Claim> {
    diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - Duration::hours(24))),
    )
    .execute(conn)?;
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::owner.eq(owner),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (stored_fingerprint, status, headers, body): (
        String,
        Option<i32>,
        Option<serde_json::Value>,
        Option<Vec<u8>>,
    ) = idempotency_keys::table
        .find((owner, key))
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::headers,
            idempotency_keys::body,
        ))
        .first(conn)?;
    Ok(match (stored_fingerprint == fingerprint, status) {
        (false, _) => Claim::Mismatch,
        (true, None) => Claim::InFlight,
        (true, Some(status)) => Claim::Replay {
            status: status as u16,
            headers: headers.unwrap_or_default(),
            body: body.unwrap_or_default(),
        },
    })
}

/// Stores a final answer; forgets the key after a server-side failure so the client can retry.
async fn remember(
    state: &AppState,
    owner: String,
    key: String,
    response: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (http_req, http_res) = response.into_parts();
    let status = http_res.status();
    let mut kept = serde_json::Map::new();
    for name in KEPT_HEADERS {
        if let Some(value) = http_res.headers().get(name).and_then(|v| v.to_str().ok()) {
            kept.insert(name.to_owned(), value.into());
        }
    }
    let (head, body) = http_res.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    let stored = body.to_vec();
    let store = state
        .db
        .transaction(move |conn| {
            let row = idempotency_keys::table.find((owner.as_str(), key.as_str()));
            if status.is_server_error() {
                diesel::delete(row).execute(conn)?;
            } else {
                diesel::update(row)
                    .set((
                        idempotency_keys::status.eq(i32::from(status.as_u16())),
                        idempotency_keys::headers.eq(serde_json::Value::Object(kept)),
                        idempotency_keys::body.eq(stored),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await;
    if let Err(error) = store {
        tracing::warn!(%error, "idempotency answer not stored");
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(body).map_into_boxed_body(),
    ))
}

fn replayed(status: u16, headers: &serde_json::Value, body: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(headers) = headers.as_object() {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.insert_header((name, value));
            }
        }
    }
    response.insert_header(("idempotency-replayed", "true"));
    response.body(Bytes::from(body))
}

/// A replay shows the caller data again: that is a read, and goes in the audit log.
async fn record_replay(
    state: &AppState,
    owner: &str,
    headers: &serde_json::Value,
) -> AppResult<()> {
    let (actor_type, id) = match owner.split_once(':') {
        Some(("user", id)) => (ActorType::User, Uuid::parse_str(id).ok()),
        Some(("service", id)) => (ActorType::ServiceAccount, Uuid::parse_str(id).ok()),
        _ => (ActorType::Anonymous, None),
    };
    let actor = AuditActor {
        actor_type,
        id,
        role: None,
        unit_id: None,
    };
    let actor = if id.is_none() {
        AuditActor::anonymous()
    } else {
        actor
    };
    let entity = headers
        .get("location")
        .and_then(|l| l.as_str())
        .and_then(|l| l.rsplit('/').next())
        .and_then(|id| Uuid::parse_str(id).ok());
    let event = AuditEvent::new(
        actor,
        AuditAction::Read,
        EntityType::ReplayedResponse,
        entity,
        state.clock.now(),
    );
    state
        .db
        .transaction(move |conn| audit::append(conn, &[event]))
        .await
}
