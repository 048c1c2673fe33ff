//! `GET /api/v1/changes?after=CURSOR&limit=N`: for systems with `changes:read`. Each page is
//! one `list` event of the feed. The answer's `next` is where to go on from: after a short page
//! it is the chain's end when the page was read, so a poller never reads a stretch twice.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::work::allowed;
use crate::audit::feed::{self, ENTITIES};
use crate::audit::sequencer::chain_tail;
use crate::audit::{self, AuditAction, EntityType};
use crate::auth::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::http::pagination::{decode_position, encode_position};
use crate::policy::Action;
use crate::state::AppState;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
}

impl FeedQuery {
    fn parse(&self) -> Result<(i64, i64), AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match self.after.as_deref() {
            None => 0,
            Some(cursor) => decode_position(cursor, 0).ok_or_else(|| {
                AppError::invalid_field("after", "is not a cursor this service gave out")
            })?,
        };
        Ok((after, limit))
    }
}

#[derive(Debug, Serialize)]
pub struct ChangeView {
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    /// `create`, `update`, `cancel` or `reassess_age`.
    pub change: String,
    /// The child the record belongs to, when it belongs to one.
    pub child_id: Option<Uuid>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct FeedPage {
    pub items: Vec<ChangeView>,
    /// Pass as `after` to go on; always present (the feed has no end).
    pub next: String,
    /// Whether more changes wait after `next` now.
    pub more: bool,
}

pub async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<FeedQuery>,
) -> AppResult<HttpResponse> {
    let page = allowed(
        &state,
        actor,
        Action::ReadChanges,
        AuditAction::List,
        EntityType::ChangeFeed,
        None,
        move |conn, work| {
            // Checked after the caller may follow the feed: others learn nothing of cursors.
            let (after, limit) = query.parse()?;
            let (end, _) = chain_tail(conn)?;
            let mut rows = feed::after(
                conn,
                (after, end),
                limit + 1,
                &ENTITIES,
                work.actor.principal.granted_units(),
            )?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next = match rows.last() {
                Some(last) if more => last.position,
                _ => end.max(after),
            };
            let event =
                work.actor
                    .event(AuditAction::List, EntityType::ChangeFeed, None, work.at.now);
            audit::append(conn, &[event])?;
            Ok(FeedPage {
                items: rows
                    .into_iter()
                    .map(|row| ChangeView {
                        entity_type: row.entity_type,
                        entity_id: row.entity_id,
                        change: row.action,
                        child_id: row.child_id,
                        at: row.occurred_at,
                    })
                    .collect(),
                next: encode_position(next),
                more,
            })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
