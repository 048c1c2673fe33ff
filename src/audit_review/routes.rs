//! `audit-events`: the auditor's review of the log (loggkontroll). Only the `auditor` profession
//! may read it; every other caller is refused and the refusal is itself an event. Every read
//! of the log is logged too, in the same transaction as the read: if that event cannot be
//! written, nothing is answered. No endpoint changes the log.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use serde::Serialize;
use uuid::Uuid;

use super::query::{self, Format, Listing, Review, Sampling};
use super::view::{to_csv, AuditEventView};
use crate::access::work::{allowed, Work};
use crate::audit::checkpoint::{Checkpoint, CheckpointFile, CheckpointKey};
use crate::audit::verify::{verify_chain_at, write_checkpoint, CheckpointWriteError};
use crate::audit::{self, AuditAction, EntityType, Outcome};
use crate::auth::actor::Actor;
use crate::db::Stop;
use crate::error::{AppError, AppResult, ConflictKind};
use crate::http::csv::attachment;
use crate::http::pagination::Paged;
use crate::policy::Action;
use crate::state::AppState;

fn accept(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
}

/// Answers about the log are never cached anywhere.
fn answer(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

fn csv_answer(
    events: &[AuditEventView],
    extra: Option<(&'static str, String)>,
) -> AppResult<HttpResponse> {
    let mut response = answer(HttpResponse::Ok());
    response.insert_header((header::VARY, "Accept"));
    if let Some((name, value)) = extra {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.insert_header((name, value));
        }
    }
    Ok(attachment(response, "audit-events.csv", to_csv(events)?))
}

fn read_action(format: Option<Format>) -> AuditAction {
    match format {
        Some(Format::Csv) => AuditAction::Export,
        _ => AuditAction::List,
    }
}

/// Work on the log, for auditors only: anyone else is refused with a `denied` event.
async fn on_the_log<T, F>(
    state: &AppState,
    actor: Actor,
    audit_action: AuditAction,
    id: Option<Uuid>,
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut diesel::PgConnection, Work) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    let action = Action::ReadAuditLog;
    allowed(
        state,
        actor,
        action,
        audit_action,
        EntityType::AuditLog,
        id,
        work,
    )
    .await
}

/// The event that records this read of the log; a read narrowed to one child names the child.
fn read_event(
    actor: &Actor,
    action: AuditAction,
    child_id: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> audit::AuditEvent {
    let event = actor.event(action, EntityType::AuditLog, None, now);
    match child_id {
        Some(child_id) => event.child(child_id),
        None => event,
    }
}

async fn listing(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    review: Review,
) -> AppResult<HttpResponse> {
    let parsed = Listing::parse(req.query_string(), accept(&req));
    let action = read_action(parsed.as_ref().ok().map(|l| l.format));
    let format = parsed.as_ref().map_or(Format::Json, |l| l.format);
    let (rows, next_cursor) = on_the_log(&state, actor, action, None, move |conn, work| {
        let listing = parsed?;
        let page = query::page(conn, review, &listing)?;
        let event = read_event(&work.actor, action, listing.filter.child_id, work.at.now);
        audit::append(conn, &[event])?;
        Ok(page)
    })
    .await?;
    let items: Vec<AuditEventView> = rows.into_iter().map(AuditEventView::from).collect();
    Ok(match format {
        Format::Csv => csv_answer(&items, next_cursor.map(|c| ("x-next-cursor", c)))?,
        Format::Json => answer(HttpResponse::Ok())
            .insert_header((header::VARY, "Accept"))
            .json(Paged { items, next_cursor }),
    })
}

/// Every event, filtered by child, actor, the actor's unit, action, outcome and period.
pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    listing(state, actor, req, Review::All).await
}

pub async fn emergency_accesses(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    listing(state, actor, req, Review::EmergencyAccesses).await
}

pub async fn protected_identity_accesses(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    listing(state, actor, req, Review::ProtectedIdentities).await
}

pub async fn outside_unit_accesses(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    listing(state, actor, req, Review::OutsideUnit).await
}

#[derive(Serialize)]
struct SampleView {
    items: Vec<AuditEventView>,
    /// How many events matched the filters, of which `items` is a random sample.
    population: i64,
}

/// A random sample for a spot check (stickprov).
pub async fn sample(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let parsed = Sampling::parse(req.query_string(), accept(&req));
    let action = read_action(parsed.as_ref().ok().map(|s| s.format));
    let format = parsed.as_ref().map_or(Format::Json, |s| s.format);
    let (rows, population) = on_the_log(&state, actor, action, None, move |conn, work| {
        let sampling = parsed?;
        let drawn = query::sample(conn, &sampling)?;
        let event = read_event(&work.actor, action, sampling.filter.child_id, work.at.now);
        audit::append(conn, &[event])?;
        Ok(drawn)
    })
    .await?;
    let items: Vec<AuditEventView> = rows.into_iter().map(AuditEventView::from).collect();
    Ok(match format {
        Format::Csv => csv_answer(&items, Some(("x-population", population.to_string())))?,
        Format::Json => answer(HttpResponse::Ok())
            .insert_header((header::VARY, "Accept"))
            .json(SampleView { items, population }),
    })
}

/// One event, by its id.
pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let row = on_the_log(
        &state,
        actor,
        AuditAction::Read,
        Some(id),
        move |conn, work| {
            let row = query::find(conn, id)?.ok_or(AppError::NotFound)?;
            let mut event = work.actor.event(
                AuditAction::Read,
                EntityType::AuditLog,
                Some(id),
                work.at.now,
            );
            if let Some(child_id) = row.0.child_id {
                event = event.child(child_id);
            }
            audit::append(conn, &[event])?;
            Ok(row)
        },
    )
    .await?;
    Ok(answer(HttpResponse::Ok()).json(AuditEventView::from(row)))
}

/// Recomputes the chain and compares it with every signed checkpoint. Answers 200 with the
/// report whether the chain is intact or not.
pub async fn verify(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let key = state.settings.audit.checkpoint_key.verifying_key();
    let file = CheckpointFile::new(&state.settings.audit.checkpoint_file);
    let report = on_the_log(
        &state,
        actor,
        AuditAction::Verify,
        None,
        move |conn, work| {
            let checkpoints = file.all_valid(&key).map_err(AppError::internal)?;
            // The walk runs before the append, so this request's own event is not in it.
            let report = verify_chain_at(conn, &checkpoints, work.at.now)?;
            let event =
                work.actor
                    .event(AuditAction::Verify, EntityType::AuditLog, None, work.at.now);
            audit::append(conn, &[event])?;
            Ok(report)
        },
    )
    .await?;
    Ok(answer(HttpResponse::Ok()).json(report))
}

/// The latest checkpoint on file, when the chain has not moved since it.
fn latest_checkpoint(file: &CheckpointFile, key: &CheckpointKey) -> Result<Checkpoint, AppError> {
    file.latest_valid(&key.verifying_key())
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::conflict(ConflictKind::AuditLogEmpty, "the audit log is empty"))
}

/// Signs the chain's end if it moved since the latest checkpoint; the checkpoint that covers
/// it now, and whether it is new. Refused (409, the attempt logged with outcome `error`) when
/// the event at the latest checkpoint is gone or changed: signing would vouch for the cut.
fn sign_the_end(
    conn: &mut diesel::PgConnection,
    work: &Work,
    key: &CheckpointKey,
    file: &CheckpointFile,
) -> Result<(Checkpoint, bool), Stop> {
    let now = work.at.now;
    let event = work
        .actor
        .event(AuditAction::Checkpoint, EntityType::AuditLog, None, now);
    // Signed before this request's own event is appended: a checkpoint only ever covers
    // committed events.
    let outcome = match write_checkpoint(conn, key, file, now) {
        Ok(Some(written)) => (written, true),
        Ok(None) => (latest_checkpoint(file, key)?, false),
        Err(refused @ CheckpointWriteError::Diverged { .. }) => {
            audit::append(conn, &[event.outcome(Outcome::Error)])?;
            let error = AppError::conflict(ConflictKind::CheckpointDiverged, refused.to_string());
            return Err(Stop::Refuse(error));
        }
        Err(error) => return Err(Stop::Abort(AppError::internal(error))),
    };
    audit::append(conn, &[event])?;
    Ok(outcome)
}

/// Signs the chain's current end now and files it outside the database. 201 with the new
/// checkpoint, or 200 with the latest one when the chain has not moved since.
pub async fn checkpoint(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let key = state.settings.audit.checkpoint_key.clone();
    let file = CheckpointFile::new(&state.settings.audit.checkpoint_file);
    let action = AuditAction::Checkpoint;
    let (checkpoint, written) = on_the_log(&state, actor, action, None, move |conn, work| {
        sign_the_end(conn, &work, &key, &file)
    })
    .await?;
    let status = if written {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(answer(status).json(checkpoint))
}

/// What a witness keeps: the checkpoint of the chain's end and the key that checks it.
#[derive(Serialize)]
struct Witnessed {
    checkpoint: Checkpoint,
    /// The Ed25519 public key (base64) that verifies `checkpoint.signature`.
    public_key: String,
}

/// The chain's end, signed (now, if it moved since the latest checkpoint), for a witness
/// outside the server (the auditor's own copy, another host) to keep: `trygg audit verify
/// --witness FILE` then catches a database rolled back behind it, which the server's own
/// checkpoint file cannot when both are restored from one backup.
pub async fn latest_checkpoint_for_witness(
    state: web::Data<AppState>,
    actor: Actor,
) -> AppResult<HttpResponse> {
    let key = state.settings.audit.checkpoint_key.clone();
    let file = CheckpointFile::new(&state.settings.audit.checkpoint_file);
    let public_key =
        base64::engine::general_purpose::STANDARD.encode(key.verifying_key().as_bytes());
    let action = AuditAction::Checkpoint;
    let (checkpoint, _) = on_the_log(&state, actor, action, None, move |conn, work| {
        sign_the_end(conn, &work, &key, &file)
    })
    .await?;
    Ok(answer(HttpResponse::Ok()).json(Witnessed {
        checkpoint,
        public_key,
    }))
}
