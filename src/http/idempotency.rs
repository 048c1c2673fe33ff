//! `Idempotency-Key` on POSTs: a client system that retries a request creates nothing twice.
//!
//! Only the outcome of the first request is kept (status, `Location`, `ETag`), never its body:
//! a repeat is answered with that status, the `Location` and a small marker body, and the client
//! reads the current state at `Location`, with every access check applied again. The owner of a
//! key is the caller as the real authentication sees it (token *and* live session), so a logged
//! out or deactivated caller gets nothing from the store. Routes that hand out secrets or tokens
//! (`/api/v1/auth/*`, `/api/v1/me/*`, `/api/v1/service-accounts*`, `/api/v1/webhooks*`) never
//! take part.
//! Reusing a key for a different request is refused (422); a request still running gets 409.
//!
//! A claim is a lease, not a lock for a day: the claiming request renews `claimed_until` (by
//! the app's clock) every few seconds while it runs, so a request that dies with the service,
//! or whose database went away, stops renewing and its claim lapses within [`LEASE`]. A retry
//! after that takes the claim over with one conditional UPDATE (of two racing retries exactly
//! one wins; the other gets 409), under a new claim token: the outcome of the earlier request,
//! should it still arrive, is stored only under its own token, never over the new claim.
//!
//! The work's own transaction marks the key done (`work_txid`, see [`crate::db::idempotency`]),
//! so a request killed after its work committed but before its answer was stored (or whose
//! commit was durable but never acknowledged) is never run again: a retry after the lease finds
//! the mark and answers from the work's audit events, with the status and `Location` of the
//! record the work created or changed ([`recovered`]), and stores that as the key's outcome.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::{subject_of, Actor};
use crate::db::idempotency::{holding, HeldClaim};
use crate::db::schema::idempotency_keys;
use crate::error::{AppError, AppResult, ConflictKind, Rule};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotency-replayed";
/// Headers of the first answer that are kept. Never the body: answers may hold child data or
/// secrets, and a replay must not show them again without the access checks of a fresh read.
const KEPT_HEADERS: [&str; 3] = ["content-type", "location", "etag"];
/// Headers of the first answer that a replay repeats.
const REPLAYED_HEADERS: [header::HeaderName; 2] = [header::LOCATION, header::ETAG];
/// Paths whose answers hand out tokens or secrets: a repeat simply runs again.
const EXCLUDED: [&str; 4] = [
    "/api/v1/auth",
    "/api/v1/me",
    "/api/v1/service-accounts",
    "/api/v1/webhooks",
];
/// How long a claim holds without being renewed. Longer than any pause between two renewals.
pub const LEASE: Duration = Duration::seconds(30);
/// How often a running request renews its claim (real time).
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

enum Claim {
    /// First use, or a lapsed claim taken over: go ahead under this token, then store the
    /// outcome.
    Fresh(Uuid),
    Replay {
        status: u16,
        headers: serde_json::Value,
    },
    Mismatch,
    InFlight,
}

/// `path` is `prefix` itself or lies under it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn applies(req: &ServiceRequest) -> bool {
    // The path as the router sees it (percent-decoded), so an encoded spelling of an excluded
    // route cannot slip in.
    let path = req.match_info().as_str();
    req.method() == Method::POST
        && path.starts_with("/api/v1/")
        && !EXCLUDED.iter().any(|prefix| under(path, prefix))
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

async fn pass(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !applies(&req) {
        return pass(req, next).await;
    }
    let key = match key_of(&req) {
        Ok(key) => key,
        Err(error) => return Ok(refuse(req, error)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return pass(req, next).await;
    };
    // The real authentication (token and live session); without it the handler answers
    // 401/403 as usual and nothing is stored or replayed. But when the session cannot be
    // looked up at all (the database is away), the answer is that 503 now: passing on would
    // let the handler run, unclaimed, once the database is back, and run a retry's work twice.
    let actor = match req.extract::<Actor>().await {
        Ok(actor) => actor,
        Err(error) if error.status_code().is_server_error() => {
            return Ok(req.error_response(error));
        }
        Err(_) => return pass(req, next).await,
    };
    let owner = subject_of(&actor.principal);
    // The handler reuses this check instead of looking the session up again.
    req.extensions_mut().insert(actor.clone());

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
            AppError::rule_of(
                Rule::IdempotencyKeyReused,
                "Idempotency-Key",
                "was already used for a different request",
            ),
        )),
        Ok(Claim::InFlight) => Ok(refuse(
            req,
            AppError::conflict(
                ConflictKind::IdempotencyInProgress,
                "a request with this Idempotency-Key is still being handled",
            ),
        )),
        Ok(Claim::Replay { status, headers }) => {
            if let Err(error) = record_replay(&state, &actor, &headers).await {
                return Ok(refuse(req, error));
            }
            let (http_req, _) = req.into_parts();
            Ok(ServiceResponse::new(http_req, replayed(status, &headers)))
        }
        Ok(Claim::Fresh(token)) => {
            let held = HeldClaim {
                owner: owner.clone(),
                key: key.clone(),
                token,
            };
            let work = Box::pin(holding(held, next.call(req)));
            let renewing = Box::pin(renew(&state, &owner, &key, token));
            let response = match futures_util::future::select(work, renewing).await {
                futures_util::future::Either::Left((response, _)) => response,
                futures_util::future::Either::Right((never, _)) => match never {},
            };
            remember(&state, owner, key, token, response?.map_into_boxed_body()).await
        }
    }
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Text)]
    fingerprint: String,
    #[diesel(sql_type = Nullable<Integer>)]
    status: Option<i32>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    headers: Option<serde_json::Value>,
    #[diesel(sql_type = Nullable<BigInt>)]
    work_txid: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    lapsed: bool,
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
    let token = Uuid::now_v7();
    let inserted = diesel::sql_query(
        "INSERT INTO idempotency_keys (owner, key, fingerprint, created_at, claimed_until, claim) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .bind::<Text, _>(fingerprint)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now + LEASE)
    .bind::<SqlUuid, _>(token)
    .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Fresh(token));
    }
    // The same request, claimed by one that stopped renewing: take it over. One statement, so
    // of two retries racing for it the second waits for the first's row lock, then finds the
    // lease renewed and takes nothing.
    // Work that committed marked the row: it is never taken over, only answered.
    let taken_over = diesel::sql_query(
        "UPDATE idempotency_keys SET claimed_until = $4, claim = $5 \
         WHERE owner = $1 AND key = $2 AND fingerprint = $3 AND status IS NULL \
         AND work_txid IS NULL AND (claimed_until IS NULL OR claimed_until <= $6)",
    )
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .bind::<Text, _>(fingerprint)
    .bind::<Timestamptz, _>(now + LEASE)
    .bind::<SqlUuid, _>(token)
    .bind::<Timestamptz, _>(now)
    .execute(conn)?;
    if taken_over == 1 {
        tracing::info!("idempotency claim taken over after its lease lapsed");
        return Ok(Claim::Fresh(token));
    }
    let stored: Stored = diesel::sql_query(
        "SELECT fingerprint, status, headers, work_txid, \
         (claimed_until IS NULL OR claimed_until <= $3) AS lapsed \
         FROM idempotency_keys WHERE owner = $1 AND key = $2 FOR UPDATE",
    )
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)?;
    if stored.fingerprint != fingerprint {
        return Ok(Claim::Mismatch);
    }
    if let Some(status) = stored.status {
        return Ok(Claim::Replay {
            status: status as u16,
            headers: stored.headers.unwrap_or_default(),
        });
    }
    match stored.work_txid {
        Some(txid) if stored.lapsed => answer_from_work(conn, owner, key, txid, token, now),
        _ => Ok(Claim::InFlight),
    }
}

#[derive(QueryableByName)]
struct WorkEvent {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Text)]
    entity_type: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    entity_id: Option<Uuid>,
}

/// The request that claimed the key committed its work and died before it stored its answer:
/// answer from the work's last change in the audit log and keep that as the key's outcome. A
/// mark on a transaction that changed nothing (a read before a refusal) is no work done: the
/// claim is taken over.
fn answer_from_work(
    conn: &mut PgConnection,
    owner: &str,
    key: &str,
    txid: i64,
    token: Uuid,
    now: chrono::DateTime<Utc>,
) -> AppResult<Claim> {
    let change: Option<WorkEvent> = diesel::sql_query(
        "SELECT action, entity_type, entity_id FROM audit_events \
         WHERE txid = $1 AND outcome = 'success' AND action NOT IN ('read', 'list', 'export', 'verify') \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind::<BigInt, _>(txid)
    .get_result(conn)
    .optional()?;
    let Some((status, headers)) = change.as_ref().and_then(recovered) else {
        diesel::sql_query(
            "UPDATE idempotency_keys SET claimed_until = $3, claim = $4, work_txid = NULL \
             WHERE owner = $1 AND key = $2",
        )
        .bind::<Text, _>(owner)
        .bind::<Text, _>(key)
        .bind::<Timestamptz, _>(now + LEASE)
        .bind::<SqlUuid, _>(token)
        .execute(conn)?;
        return Ok(Claim::Fresh(token));
    };
    tracing::info!("idempotency outcome recovered from the work's audit events");
    diesel::sql_query(
        "UPDATE idempotency_keys SET status = $3, headers = $4, claimed_until = NULL \
         WHERE owner = $1 AND key = $2",
    )
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .bind::<Integer, _>(i32::from(status))
    .bind::<Jsonb, _>(&headers)
    .execute(conn)?;
    Ok(Claim::Replay { status, headers })
}

/// The answer a finished piece of work gave, as far as its audit event tells: 201 for what it
/// created, 200 for what it changed, and where the record is. `tests/api/idempotency.rs`
/// checks this against the real answer of every POST that takes an Idempotency-Key.
fn recovered(change: &WorkEvent) -> Option<(u16, serde_json::Value)> {
    let collection = match change.entity_type.as_str() {
        "child" => "children",
        "contact_schedule" => "contact-schedules",
        "facility" => "facilities",
        "placement" => "placements",
        "unit" => "units",
        "user" => "users",
        "visit" => "visits",
        _ => return None,
    };
    let status = match change.action.as_str() {
        "create" | "emergency_access" | "checkpoint" => 201,
        _ => 200,
    };
    let location = format!("/api/v1/{collection}/{}", change.entity_id?);
    Some((status, serde_json::json!({ "location": location })))
}

/// Keeps the claim alive while the request runs; never ends (the request's end drops it). A
/// renewal that fails (the database is away) is simply tried again: if the request cannot
/// reach the database, its claim lapses, as it should.
async fn renew(state: &AppState, owner: &str, key: &str, token: Uuid) -> std::convert::Infallible {
    loop {
        actix_web::rt::time::sleep(RENEW_EVERY).await;
        let (owner, key, until) = (owner.to_owned(), key.to_owned(), state.clock.now() + LEASE);
        let renewed = state
            .db
            .run(move |conn| {
                Ok(diesel::sql_query(
                    "UPDATE idempotency_keys SET claimed_until = $3 \
                     WHERE owner = $1 AND key = $2 AND claim = $4 AND status IS NULL",
                )
                .bind::<Text, _>(owner)
                .bind::<Text, _>(key)
                .bind::<Timestamptz, _>(until)
                .bind::<SqlUuid, _>(token)
                .execute(conn)?)
            })
            .await;
        match renewed {
            Ok(1) => {}
            Ok(_) => tracing::warn!("idempotency claim lost while its request still runs"),
            Err(error) => tracing::warn!(%error, "idempotency claim not renewed"),
        }
    }
}

/// Stores the outcome (status and a few headers, never the body); forgets the key after a
/// server-side failure so the client can retry. Both only under this request's own claim: if
/// its lease lapsed and a retry took the key over, the retry's claim is left alone.
async fn remember(
    state: &AppState,
    owner: String,
    key: String,
    token: Uuid,
    response: ServiceResponse<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let status = response.status();
    let mut kept = serde_json::Map::new();
    for name in KEPT_HEADERS {
        if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            kept.insert(name.to_owned(), value.into());
        }
    }
    let db = state.db.clone();
    let store = async move {
        db.transaction(move |conn| {
            // A failure after the work committed keeps the row: a retry answers from the work.
            let stored = if status.is_server_error() {
                diesel::sql_query(
                    "DELETE FROM idempotency_keys \
                     WHERE owner = $1 AND key = $2 AND claim = $3 AND work_txid IS NULL",
                )
                .bind::<Text, _>(owner)
                .bind::<Text, _>(key)
                .bind::<SqlUuid, _>(token)
                .execute(conn)?
            } else {
                diesel::sql_query(
                    "UPDATE idempotency_keys \
                     SET status = $4, headers = $5, body = NULL, claimed_until = NULL \
                     WHERE owner = $1 AND key = $2 AND claim = $3",
                )
                .bind::<Text, _>(owner)
                .bind::<Text, _>(key)
                .bind::<SqlUuid, _>(token)
                .bind::<Integer, _>(i32::from(status.as_u16()))
                .bind::<Jsonb, _>(serde_json::Value::Object(kept))
                .execute(conn)?
            };
            if stored == 0 {
                tracing::warn!("idempotency outcome not stored: the claim was taken over");
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|error| tracing::warn!(%error, "idempotency outcome not stored"));
    };
    if status.is_server_error() {
        // Releasing the claim early only spares a retry the rest of the lease; when the
        // database is away it would cost the answer another connection timeout.
        actix_web::rt::spawn(store);
    } else {
        store.await;
    }
    Ok(response)
}

fn stored<'a>(headers: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(serde_json::Value::as_str)
}

/// The stored status with `Location` and `ETag`, and a marker body pointing at the resource.
fn replayed(status: u16, headers: &serde_json::Value) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    for name in REPLAYED_HEADERS {
        if let Some(Ok(value)) = stored(headers, name.as_str()).map(HeaderValue::from_str) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((REPLAYED_HEADER, "true"));
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response.json(serde_json::json!({
        "replayed": true,
        "location": stored(headers, header::LOCATION.as_str()),
    }))
}

/// A replay tells the caller about an earlier answer: a read, and it goes in the audit log.
async fn record_replay(
    state: &AppState,
    actor: &Actor,
    headers: &serde_json::Value,
) -> AppResult<()> {
    let entity = stored(headers, header::LOCATION.as_str())
        .and_then(|l| l.rsplit('/').next())
        .and_then(|id| Uuid::parse_str(id).ok());
    let event = actor.event(
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
