//! `webhooks`: a system with `changes:read` registers HTTPS endpoints for the kinds of record it
//! follows, and reads what was sent to them. A subscription belongs to the account that made
//! it; another account's is not found. Each handler: parse → check the action → store → view.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use diesel::pg::PgConnection;
use serde::Deserialize;
use uuid::Uuid;

use super::input::{CreateWebhook, UpdateWebhook};
use super::signing::new_secret;
use super::store;
use super::view::{registered, rotated, shown, DeliveryView, WebhookView};
use crate::access::work::{self, Work};
use crate::audit::sequencer::chain_tail;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::{Actor, Principal};
use crate::db::Stop;
use crate::error::{AppError, AppResult};
use crate::http::etag::required_version;
use crate::http::pagination::{Page, PageQuery, Paged};
use crate::http::ApiJson;
use crate::policy::Action;
use crate::state::AppState;

/// Runs `work` for the calling account if it may manage webhooks (else a `denied` event and
/// 403), handing it the account's id.
async fn owning<T, F>(
    state: &AppState,
    actor: Actor,
    action: AuditAction,
    (entity_type, id): (EntityType, Option<Uuid>),
    work: F,
) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, Work, Uuid) -> Result<T, Stop> + Send + 'static,
    T: Send + 'static,
{
    work::allowed(
        state,
        actor,
        Action::ManageWebhooks,
        action,
        entity_type,
        id,
        |conn, granted| match granted.actor.principal {
            Principal::Service { id, .. } => work(conn, granted, id),
            // The policy lets only service accounts manage webhooks.
            _ => Err(AppError::forbidden("only other systems have webhooks").into()),
        },
    )
    .await
}

const SUBSCRIPTION: EntityType = EntityType::WebhookSubscription;

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = query.parse();
    let paged = owning(
        &state,
        actor,
        AuditAction::List,
        (SUBSCRIPTION, None),
        move |conn, work, account| {
            let page = page?;
            let paged = Paged::from_rows(store::list(conn, account, page)?, page, |s| s.0.id);
            let events: Vec<_> = paged
                .items
                .iter()
                .map(|s| work.event(AuditAction::Read, SUBSCRIPTION, Some(s.0.id)))
                .collect();
            audit::append(conn, &events)?;
            Ok(paged)
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(WebhookView::from)))
}

pub async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> AppResult<HttpResponse> {
    let secret = new_secret();
    let (to_seal, settings) = (secret.clone(), state.settings.clone());
    let subscription = owning(
        &state,
        actor,
        AuditAction::Create,
        (SUBSCRIPTION, None),
        move |conn, work, account| {
            let target = body.validate(settings.webhooks.private_targets)?;
            let id = Uuid::now_v7();
            let sealed = settings.data_key.seal(id.as_bytes(), &to_seal);
            // It follows what changes from now on; what came before is in the change feed.
            let (position, _) = chain_tail(conn)?;
            let event = work
                .event(AuditAction::Create, SUBSCRIPTION, Some(id))
                .changed(["url", "entity_types", "secret"]);
            let subscription = store::insert(
                conn,
                id,
                account,
                &target,
                &sealed,
                position,
                event.id,
                work.at.now,
            )?;
            audit::append(conn, &[event])?;
            Ok(subscription)
        },
    )
    .await?;
    Ok(registered(subscription, secret))
}

pub async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let subscription = owning(
        &state,
        actor,
        AuditAction::Read,
        (SUBSCRIPTION, Some(id)),
        move |conn, work, account| {
            let found = store::find(conn, account, id, false)?.ok_or(AppError::NotFound)?;
            audit::append(
                conn,
                &[work.event(AuditAction::Read, SUBSCRIPTION, Some(id))],
            )?;
            Ok(found)
        },
    )
    .await?;
    Ok(shown(subscription))
}

/// Changes where it goes, what it follows, or whether it is on; turning on one that repeated
/// failure disabled starts its count of failures again.
pub async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    path: web::Path<Uuid>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let expected_version = required_version(&req, id);
    let private_targets = state.settings.webhooks.private_targets;
    let subscription = owning(
        &state,
        actor,
        AuditAction::Update,
        (SUBSCRIPTION, Some(id)),
        move |conn, work, account| {
            let (expected_version, change) = (expected_version?, body.validate(private_targets)?);
            let (current, progress) =
                store::find(conn, account, id, true)?.ok_or(AppError::NotFound)?;
            if current.version != expected_version {
                return Err(AppError::stale_version().into());
            }
            let disabled = progress.disabled_at.is_some();
            let enable_again = change.enables_again(disabled);
            let (target, active, changed) =
                change.applied_to(&current.target(), current.active, disabled);
            let event = work
                .event(AuditAction::Update, SUBSCRIPTION, Some(id))
                .changed(changed);
            let row = store::update(
                conn,
                id,
                current.version,
                (&target, active),
                event.id,
                work.at.now,
            )?
            .ok_or_else(AppError::stale_version)?;
            let progress = if enable_again {
                store::clear_disabled(conn, id)?
            } else {
                progress
            };
            audit::append(conn, &[event])?;
            Ok((row, progress))
        },
    )
    .await?;
    Ok(shown(subscription))
}

/// A new signing secret, shown once; the one it replaces also signs for the configured
/// overlap, so a receiver can switch without losing a delivery.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let secret = new_secret();
    let (to_seal, settings) = (secret.clone(), state.settings.clone());
    let subscription = owning(
        &state,
        actor,
        AuditAction::Update,
        (SUBSCRIPTION, Some(id)),
        move |conn, work, account| {
            let (current, progress) =
                store::find(conn, account, id, true)?.ok_or(AppError::NotFound)?;
            let sealed = settings.data_key.seal(id.as_bytes(), &to_seal);
            // The dispatcher signs by the real time, so the overlap is counted by it too.
            let overlap = chrono::Duration::from_std(settings.webhooks.secret_overlap)
                .map_err(AppError::internal)?;
            let event = work
                .event(AuditAction::Update, SUBSCRIPTION, Some(id))
                .changed(["secret"]);
            let previous = (current.secret_sealed.as_str(), Utc::now() + overlap);
            let row = store::set_secret(conn, id, &sealed, previous, event.id, work.at.now)?;
            audit::append(conn, &[event])?;
            Ok((row, progress))
        },
    )
    .await?;
    Ok(rotated(subscription, secret))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    /// Only deliveries in this state.
    state: Option<DeliveryState>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

/// The delivery log of one subscription: each delivery with every attempt. One `list` event on
/// the subscription (the log holds no personal data, only ids).
pub async fn deliveries(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
    query: web::Query<DeliveryQuery>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let query = query.into_inner();
    let page: Result<Page, AppError> = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse();
    let filter = query.state.map(DeliveryState::as_str);
    let paged = owning(
        &state,
        actor,
        AuditAction::List,
        (SUBSCRIPTION, Some(id)),
        move |conn, work, account| {
            let page = page?;
            store::find(conn, account, id, false)?.ok_or(AppError::NotFound)?;
            let rows = store::deliveries(conn, id, filter, page)?;
            audit::append(
                conn,
                &[work.event(AuditAction::List, SUBSCRIPTION, Some(id))],
            )?;
            Ok(Paged::from_rows(rows, page, |(d, _)| d.id))
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(paged.map(|(d, a)| DeliveryView::of(d, a))))
}

/// Sends a delivery again, now, whatever became of it (202: it is queued, not yet sent).
pub async fn redeliver(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let delivery = owning(
        &state,
        actor,
        AuditAction::Update,
        (EntityType::WebhookDelivery, Some(id)),
        move |conn, work, account| {
            let delivery = store::redeliver(conn, account, id)?.ok_or(AppError::NotFound)?;
            let event = work
                .event(AuditAction::Update, EntityType::WebhookDelivery, Some(id))
                .purpose("redelivery requested");
            audit::append(conn, &[event])?;
            Ok(delivery)
        },
    )
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::of(delivery, Vec::new())))
}
